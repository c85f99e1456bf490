//! Product search over the catalog snapshot: Russian and English word forms (Snowball
//! stemmers), typos (edit distance on the catalog's own vocabulary), a query typed in the
//! wrong keyboard layout, Latin transliteration, as-you-type prefixes, exact article hits.
//!
//! An in-memory inverted index rebuilt with every snapshot. The vocabulary of a shop is small
//! (tens of thousands of distinct words even at 100k products), so fuzzy matching scans it
//! directly instead of building automata.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

pub struct Doc {
    pub name: String,
    pub article: Option<String>,
    pub barcode: Option<String>,
    pub properties: Vec<String>,
    pub description: Option<String>,
    pub popularity: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub doc: u32,
    pub score: f32,
}

/// Field weights: a word in the name counts more than in the properties, which count more
/// than the description.
const NAME: f32 = 3.0;
const PROPERTY: f32 = 1.5;
const DESCRIPTION: f32 = 0.5;
const ARTICLE: f32 = 100.0;

/// Per-thread accumulators for [`Index::run`], all zero between queries.
#[derive(Default)]
struct Scratch {
    score: Vec<f32>,
    words_hit: Vec<u8>,
    best: Vec<f32>,
    touched: Vec<u32>,
    ever: Vec<u32>,
}

impl Scratch {
    fn prepare(&mut self, docs: usize) {
        if self.score.len() < docs {
            self.score.resize(docs, 0.0);
            self.words_hit.resize(docs, 0);
            self.best.resize(docs, 0.0);
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

pub struct Index {
    /// stem → (doc, best field weight), sorted by doc.
    postings: HashMap<String, Vec<(u32, f32)>>,
    /// Every stem, sorted: prefix lookups.
    vocabulary: Vec<String>,
    /// Fuzzy candidates by length in chars: (vocabulary index, chars). Words with digits
    /// (articles, sizes) are left out: a typo there is another product.
    by_length: Vec<Vec<(u32, Box<[char]>)>>,
    /// Normalised article or barcode → docs.
    codes: HashMap<String, Vec<u32>>,
    popularity: Vec<i64>,
    ru: Stemmer,
    en: Stemmer,
}

fn normalize(text: &str) -> String {
    text.to_lowercase().replace('ё', "е")
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

fn is_cyrillic(word: &str) -> bool {
    word.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
}

const EN: &str = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`";
const RU: &str = "йцукенгшщзхъфывапролджэячсмитьбюё";

/// The same keys pressed in the other layout: `rehnrf` → `куртка`, `ызщке` → `sport`.
fn swap_layout(text: &str) -> String {
    text.chars()
        .map(|c| {
            if let Some(i) = EN.chars().position(|e| e == c) {
                RU.chars().nth(i).unwrap_or(c)
            } else if let Some(i) = RU.chars().position(|r| r == c) {
                EN.chars().nth(i).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// Latin spelled as Russian sounds (`krossovki` → `кроссовки`, `iphone` → `ифоне`): a hint
/// for the fuzzy match, weighted below a direct match.
fn transliterate(text: &str) -> String {
    const PAIRS: [(&str, &str); 12] = [
        ("shch", "щ"),
        ("sch", "щ"),
        ("sh", "ш"),
        ("ch", "ч"),
        ("zh", "ж"),
        ("kh", "х"),
        ("ts", "ц"),
        ("yu", "ю"),
        ("ya", "я"),
        ("yo", "е"),
        ("ph", "ф"),
        ("ee", "и"),
    ];
    let mut out = String::new();
    let mut rest = text;
    'outer: while let Some(c) = rest.chars().next() {
        for (lat, cyr) in PAIRS {
            if rest.starts_with(lat) {
                out.push_str(cyr);
                rest = &rest[lat.len()..];
                continue 'outer;
            }
        }
        let mapped = match c {
            'a' => "а",
            'b' => "б",
            'v' | 'w' => "в",
            'g' => "г",
            'd' => "д",
            'e' => "е",
            'z' => "з",
            'i' => "и",
            'j' | 'y' => "й",
            'k' | 'q' | 'c' => "к",
            'l' => "л",
            'm' => "м",
            'n' => "н",
            'o' => "о",
            'p' => "п",
            'r' => "р",
            's' => "с",
            't' => "т",
            'u' => "у",
            'f' => "ф",
            'h' => "х",
            'x' => "кс",
            _ => "",
        };
        if mapped.is_empty() {
            out.push(c);
        } else {
            out.push_str(mapped);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Levenshtein distance, stopping early past `max`.
fn distance(a: &[char], b: &[char], max: usize) -> usize {
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut best = cur[0];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            best = best.min(cur[j + 1]);
        }
        if best > max {
            return max + 1;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn code_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("docs", &self.popularity.len())
            .field("terms", &self.vocabulary.len())
            .finish()
    }
}

impl Index {
    pub fn build(docs: impl IntoIterator<Item = Doc>) -> Self {
        let mut index = Index {
            postings: HashMap::new(),
            vocabulary: Vec::new(),
            by_length: Vec::new(),
            codes: HashMap::new(),
            popularity: Vec::new(),
            ru: Stemmer::create(Algorithm::Russian),
            en: Stemmer::create(Algorithm::English),
        };
        for (i, doc) in docs.into_iter().enumerate() {
            let i = i as u32;
            index.popularity.push(doc.popularity);
            for code in [&doc.article, &doc.barcode].into_iter().flatten() {
                let key = code_key(code);
                if !key.is_empty() {
                    index.codes.entry(key).or_default().push(i);
                }
            }
            let mut fields = vec![(normalize(&doc.name), NAME)];
            fields.extend(doc.properties.iter().map(|p| (normalize(p), PROPERTY)));
            fields.extend(doc.description.iter().map(|d| (normalize(d), DESCRIPTION)));
            for (text, weight) in fields {
                for word in words(&text) {
                    let stem = index.stem(word);
                    let list = index.postings.entry(stem).or_default();
                    match list.last_mut() {
                        Some((d, w)) if *d == i => *w = w.max(weight),
                        _ => list.push((i, weight)),
                    }
                }
            }
        }
        index.vocabulary = index.postings.keys().cloned().collect();
        index.vocabulary.sort_unstable();
        for (i, term) in index.vocabulary.iter().enumerate() {
            if term.chars().any(|c| c.is_ascii_digit()) {
                continue;
            }
            let chars: Box<[char]> = term.chars().collect();
            if index.by_length.len() <= chars.len() {
                index.by_length.resize_with(chars.len() + 1, Vec::new);
            }
            index.by_length[chars.len()].push((i as u32, chars));
        }
        index
    }

    fn stem(&self, word: &str) -> String {
        let stemmer = if is_cyrillic(word) {
            &self.ru
        } else {
            &self.en
        };
        stemmer.stem(word).into_owned()
    }

    /// Stems of the vocabulary matching a query word: the word's stem (weight 1), words it
    /// begins (as-you-type, `prefix`), and close misspellings (weight by distance).
    fn expand(&self, word: &str, prefix: bool) -> Vec<(&str, f32)> {
        let stem = self.stem(word);
        let mut out: Vec<(&str, f32)> = Vec::new();
        if let Some((k, _)) = self.postings.get_key_value(&stem) {
            out.push((k.as_str(), 1.0));
        }
        if prefix && word.chars().count() >= 2 {
            let start = self.vocabulary.partition_point(|t| t.as_str() < word);
            for t in self.vocabulary[start..]
                .iter()
                .take_while(|t| t.starts_with(word))
                .take(50)
            {
                if !out.iter().any(|(o, _)| *o == t) {
                    out.push((t.as_str(), 0.8));
                }
            }
        }
        let len = stem.chars().count();
        let max = if len >= 8 {
            2
        } else if len >= 4 {
            1
        } else {
            0
        };
        if out.is_empty() && max > 0 && !word.chars().any(|c| c.is_ascii_digit()) {
            let chars: Vec<char> = stem.chars().collect();
            let lengths =
                len.saturating_sub(max)..=(len + max).min(self.by_length.len().saturating_sub(1));
            for bucket in lengths.filter_map(|l| self.by_length.get(l)) {
                for (i, term) in bucket {
                    let d = distance(&chars, term, max);
                    if d <= max {
                        out.push((self.vocabulary[*i as usize].as_str(), 0.6 / d as f32));
                    }
                }
            }
        }
        out
    }

    /// Scores documents matching every word of `query` (as typed); the last word may be a prefix.
    fn run(&self, query: &str, prefix: bool) -> (Vec<Hit>, usize) {
        let text = normalize(query);
        let query_words: Vec<&str> = words(&text).take(8).collect();
        if query_words.is_empty() {
            return (Vec::new(), 0);
        }
        // Dense per-document accumulators, kept per thread and cleaned by what was touched: a
        // broad word can touch every document, and arrays beat hash maps by far there.
        let n = self.popularity.len();
        let mut matched_words = 0;
        let hits = SCRATCH.with_borrow_mut(|scratch| {
            scratch.prepare(n);
            let Scratch {
                score,
                words_hit,
                best,
                touched,
                ever,
            } = scratch;
            let last = query_words.len() - 1;
            for (n, word) in query_words.iter().enumerate() {
                let terms = self.expand(word, prefix && n == last);
                if terms.is_empty() {
                    continue;
                }
                matched_words += 1;
                touched.clear();
                for (term, quality) in terms {
                    for &(doc, weight) in self.postings.get(term).map(Vec::as_slice).unwrap_or(&[])
                    {
                        let b = &mut best[doc as usize];
                        if *b == 0.0 {
                            touched.push(doc);
                        }
                        *b = b.max(quality * weight);
                    }
                }
                for &doc in touched.iter() {
                    let d = doc as usize;
                    if words_hit[d] == 0 {
                        ever.push(doc);
                    }
                    score[d] += best[d];
                    words_hit[d] += 1;
                    best[d] = 0.0;
                }
            }
            let want = query_words.len() as u8;
            let mut hits = Vec::new();
            for &doc in ever.iter() {
                let d = doc as usize;
                if words_hit[d] == want {
                    hits.push(Hit {
                        doc,
                        score: score[d],
                    });
                }
                score[d] = 0.0;
                words_hit[d] = 0;
            }
            ever.clear();
            hits
        });
        (hits, matched_words)
    }

    /// Best matches first; documents are the indexes given to [`Index::build`].
    pub fn search(&self, query: &str, limit: usize, prefix: bool) -> Vec<Hit> {
        let query: String = query.chars().take(200).collect();
        let mut hits: Vec<Hit> = Vec::new();
        // An article or barcode typed exactly goes first.
        let key = code_key(&query);
        if let Some(docs) = self.codes.get(&key) {
            hits.extend(docs.iter().map(|&doc| Hit {
                doc,
                score: ARTICLE,
            }));
        }
        let lower = normalize(&query);
        let (direct, direct_words) = self.run(&lower, prefix);
        let mut best = direct;
        if best.is_empty() || direct_words == 0 {
            // Typed in the wrong layout, or in Latin for a Russian word.
            for (variant, penalty) in [(swap_layout(&lower), 0.9), (transliterate(&lower), 0.7)] {
                if variant == lower {
                    continue;
                }
                let (alt, _) = self.run(&variant, prefix);
                if !alt.is_empty() {
                    best = alt
                        .into_iter()
                        .map(|h| Hit {
                            doc: h.doc,
                            score: h.score * penalty,
                        })
                        .collect();
                    break;
                }
            }
        }
        let exact = hits.len();
        for h in best {
            if !hits[..exact].iter().any(|x| x.doc == h.doc) {
                hits.push(h);
            }
        }
        let order = |a: &Hit, b: &Hit| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.popularity[b.doc as usize].cmp(&self.popularity[a.doc as usize]))
                .then_with(|| a.doc.cmp(&b.doc))
        };
        // Only the best `limit` are ordered: a broad word can match every document.
        if hits.len() > limit && limit > 0 {
            hits.select_nth_unstable_by(limit - 1, order);
        }
        hits.truncate(limit);
        hits.sort_unstable_by(order);
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, name: &str, article: &str, props: &[&str], description: &str) -> Doc {
        let _ = id;
        Doc {
            name: name.into(),
            article: Some(article.into()),
            barcode: None,
            properties: props.iter().map(|p| p.to_string()).collect(),
            description: Some(description.into()),
            popularity: 0,
        }
    }

    fn index() -> Index {
        Index::build([
            doc(
                "0",
                "Куртка зимняя «Полюс»",
                "JK-001",
                &["Тундра", "хаки"],
                "Тёплая куртка с капюшоном",
            ),
            doc(
                "1",
                "Кроссовки беговые Aurora",
                "SN-501",
                &["Aurora", "красный"],
                "Для бега по асфальту",
            ),
            doc(
                "2",
                "Смартфон Aurora X Pro",
                "PH-XP",
                &["Aurora", "чёрный"],
                "Флагманский телефон",
            ),
            doc(
                "3",
                "Чехол для телефона",
                "CS-001",
                &["силикон"],
                "Подходит к курткам? Нет, к смартфонам",
            ),
            doc(
                "4",
                "Jacket Urban Fox",
                "JK-900",
                &["Urban Fox"],
                "Light jacket",
            ),
            doc("5", "Iphone 15 чехол", "IP-15", &["Apple"], "чехол"),
        ])
    }

    fn top(q: &str) -> Option<u32> {
        index().search(q, 5, false).first().map(|h| h.doc)
    }

    #[test]
    fn word_forms_typos_layout_transliteration() {
        assert_eq!(top("куртки"), Some(0), "plural");
        assert_eq!(top("курткп"), Some(0), "typo");
        assert_eq!(top("rehnrf"), Some(0), "EN layout");
        assert_eq!(top("кросовки"), Some(1), "missing letter");
        assert_eq!(
            top("ntktajy"),
            Some(3),
            "EN layout for «телефон», in 3's name"
        );
        assert_eq!(top("jackets"), Some(4), "English plural");
        assert_eq!(top("krossovki"), Some(1), "transliterated");
        assert_eq!(top("ёлка"), None);
    }

    #[test]
    fn article_first_and_name_over_description() {
        assert_eq!(top("SN-501"), Some(1));
        assert_eq!(top("sn501"), Some(1));
        // «телефон» is in 3's name and 2's description: the name wins.
        assert_eq!(top("телефон"), Some(3));
    }

    #[test]
    fn prefixes_and_garbage() {
        let idx = index();
        assert_eq!(idx.search("кур", 5, true).first().map(|h| h.doc), Some(0));
        for q in ["", "   ", "\"(*:AND", &"я".repeat(10_000)] {
            let _ = idx.search(q, 5, true);
        }
    }
}
