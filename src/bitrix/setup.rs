//! `vitrina bitrix check` and `vitrina bitrix setup` (filled in by a later step).
