//! Currency code normalization.
//!
//! The schema wants an ISO 4217 code in `Валюта`, but real 1C exports write
//! whatever the currency is called in the 1C database: `руб` (the 2014 real
//! offers file), `руб.`, `RUR`, the numeric code `643`, `грн` (Ukrainian
//! 1C exports). HostCMS's CommerceML importer also maps numeric codes.

/// Maps the currency as written in a 1C export to an ISO 4217 code.
///
/// `руб`, `руб.`, `рубль`, `р.`, `₽`, `RUR`, `643` → `RUB`; `грн`, `980` → `UAH`;
/// a few other numeric codes (`840`, `978`, `933`, `398`) to their letter
/// codes; any three Latin letters are upper-cased (`rub` → `RUB`, `USD`
/// stays `USD`). Anything else is returned trimmed but otherwise unchanged,
/// so nothing is lost.
pub fn normalize_currency(raw: &str) -> String {
    let trimmed = raw.trim();
    let lower = trimmed.to_lowercase();
    let key = lower.trim_end_matches('.');
    let mapped = match key {
        "руб" | "рубль" | "рублей" | "р" | "₽" | "rur" | "rub" | "643" | "810" => {
            "RUB"
        }
        "грн" | "гривна" | "uah" | "980" => "UAH",
        "840" | "$" => "USD",
        "978" | "€" => "EUR",
        "933" | "974" | "бел. руб" | "бел.руб" => "BYN",
        "398" | "тенге" | "тг" => "KZT",
        _ => "",
    };
    if !mapped.is_empty() {
        return mapped.to_owned();
    }
    if trimmed.len() == 3 && trimmed.bytes().all(|b| b.is_ascii_alphabetic()) {
        return trimmed.to_ascii_uppercase();
    }
    trimmed.to_owned()
}

#[cfg(test)]
mod tests {
    use super::normalize_currency;

    #[test]
    fn rubles() {
        for raw in ["руб", "руб.", "RUR", "643", "RUB", "rub", " руб ", "Руб."] {
            assert_eq!(normalize_currency(raw), "RUB", "{raw:?}");
        }
    }

    #[test]
    fn others() {
        assert_eq!(normalize_currency("грн"), "UAH");
        assert_eq!(normalize_currency("USD"), "USD");
        assert_eq!(normalize_currency("eur"), "EUR");
        assert_eq!(normalize_currency("840"), "USD");
        assert_eq!(normalize_currency("у.е."), "у.е.");
    }
}
