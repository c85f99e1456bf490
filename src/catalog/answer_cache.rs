//! Rendered JSON answers of one catalog version, bounded by entries AND bytes: a client
//! walking `?page=1…1000000` (or any endless set of distinct URLs) costs CPU, never memory.
//!
//! One [`quick_cache`] holds them (least used go first). Its only bound is a total weight, so
//! every entry weighs at least `max_bytes / max_entries`: the weight bound then caps the count
//! too, and big answers still count by their size.

use bytes::Bytes;

/// Entries kept per catalog version.
pub const MAX_ENTRIES: usize = 16 * 1024;
/// Bytes (answer, key and bookkeeping) kept per catalog version.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Longer keys are not cached (a query string this long is no customer's).
pub const MAX_KEY: usize = 512;
/// What an entry weighs beyond its key and body (map slot, `Bytes` header).
const ENTRY_OVERHEAD: u64 = 128;

#[derive(Clone)]
struct Weighter {
    min: u64,
}

impl quick_cache::Weighter<String, Bytes> for Weighter {
    fn weight(&self, key: &String, value: &Bytes) -> u64 {
        (key.len() as u64 + value.len() as u64 + ENTRY_OVERHEAD).max(self.min)
    }
}

pub struct AnswerCache {
    cache: quick_cache::sync::Cache<String, Bytes, Weighter>,
    max_entries: usize,
}

impl std::fmt::Debug for AnswerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerCache")
            .field("entries", &self.cache.len())
            .field("bytes", &self.cache.weight())
            .finish()
    }
}

impl Default for AnswerCache {
    fn default() -> Self {
        Self::new(MAX_ENTRIES, MAX_BYTES)
    }
}

impl AnswerCache {
    pub fn new(max_entries: usize, max_bytes: u64) -> Self {
        let max_entries = max_entries.max(1);
        let max_bytes = max_bytes.max(ENTRY_OVERHEAD);
        let min = max_bytes.div_ceil(max_entries as u64).max(1);
        Self {
            cache: quick_cache::sync::Cache::with_weighter(
                max_entries,
                max_bytes,
                Weighter { min },
            ),
            max_entries,
        }
    }

    pub fn get(&self, key: &str) -> Option<Bytes> {
        self.cache.get(key)
    }

    pub fn insert(&self, key: String, body: Bytes) {
        if key.len() > MAX_KEY {
            return;
        }
        self.cache.insert(key, body);
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// Weight held now (bytes with overhead, each entry at least its minimum).
    pub fn bytes(&self) -> u64 {
        self.cache.weight()
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    pub fn max_bytes(&self) -> u64 {
        self.cache.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_small_answers_is_bounded_by_entries() {
        let cache = AnswerCache::new(1000, 64 * 1024 * 1024);
        for n in 0..50_000 {
            cache.insert(format!("products?page={n}"), Bytes::from_static(b"[]"));
            assert!(cache.len() <= 1000, "{} entries after {n}", cache.len());
        }
        assert!(cache.len() > 500, "the cache still holds answers");
        assert!(cache.get("products?page=49999").is_some());
    }

    #[test]
    fn big_answers_are_bounded_by_bytes() {
        let cache = AnswerCache::new(10_000, 1024 * 1024);
        let body = Bytes::from(vec![b'x'; 64 * 1024]);
        for n in 0..200 {
            cache.insert(format!("k{n}"), body.clone());
            assert!(cache.bytes() <= 1024 * 1024);
        }
        assert!(
            cache.len() <= 16,
            "{} entries of 64 KiB in 1 MiB",
            cache.len()
        );
    }

    #[test]
    fn long_keys_are_not_kept() {
        let cache = AnswerCache::default();
        cache.insert("x".repeat(MAX_KEY + 1), Bytes::from_static(b"{}"));
        assert!(cache.is_empty());
        cache.insert("x".repeat(MAX_KEY), Bytes::from_static(b"{}"));
        assert_eq!(cache.len(), 1);
    }
}

#[cfg(test)]
mod through_the_handler {
    use super::*;
    use crate::catalog::snapshot::Snapshot;

    /// `?_=<n>` (cache busting) is the one parameter a list accepts with any value: a flood of
    /// distinct ones goes through the same `cached` path the handlers use and stays bounded.
    #[test]
    fn distinct_query_strings_keep_entries_within_the_bound() {
        let snapshot = Snapshot::empty();
        let headers = axum::http::HeaderMap::new();
        for n in 0..(MAX_ENTRIES * 3) {
            let key = format!("products?_={n}");
            let r = crate::catalog::http::cached(&snapshot, &headers, &key, || Ok(vec![n]));
            assert_eq!(r.status(), 200);
        }
        let held = snapshot.answer_cache();
        assert!(
            held.len() <= MAX_ENTRIES,
            "{} entries, bound {MAX_ENTRIES}",
            held.len()
        );
        assert!(held.bytes() <= MAX_BYTES);
        assert!(held.len() >= MAX_ENTRIES / 2, "recent answers are kept");
    }
}
