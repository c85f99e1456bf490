//! PHP-style query strings (`filter[>ID]=5&select[0]=ID`): the form a `batch` command carries
//! its parameters in (`"cmd": {"a": "user.get?filter[ID]=1"}`), as `http_build_query` writes
//! them. Values arrive on the other side as strings.

use serde_json::{Map, Value};

/// `params` (a JSON object) as a PHP query string.
pub fn encode(params: &Value) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    if let Value::Object(map) = params {
        for (k, v) in map {
            push(&mut out, k.clone(), v);
        }
    }
    out.finish()
}

fn push(out: &mut form_urlencoded::Serializer<'_, String>, key: String, value: &Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                push(out, format!("{key}[{k}]"), v);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                push(out, format!("{key}[{i}]"), v);
            }
        }
        Value::Null => {
            out.append_pair(&key, "");
        }
        Value::Bool(b) => {
            // PHP's http_build_query writes booleans as 1/0.
            out.append_pair(&key, if *b { "1" } else { "0" });
        }
        Value::Number(n) => {
            out.append_pair(&key, &n.to_string());
        }
        Value::String(s) => {
            out.append_pair(&key, s);
        }
    }
}

/// A PHP query string back into JSON: nested keys into objects, objects whose keys are
/// 0..n into arrays, every value a string (as PHP sees them).
pub fn decode(query: &str) -> Value {
    let mut root = Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let (head, path) = split_key(&key);
        insert(&mut root, &head, &path, Value::String(value.into_owned()));
    }
    arrays(Value::Object(root))
}

fn split_key(key: &str) -> (String, Vec<String>) {
    let Some(open) = key.find('[') else {
        return (key.to_string(), Vec::new());
    };
    let head = key[..open].to_string();
    let mut path = Vec::new();
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(close) => {
                path.push(stripped[..close].to_string());
                rest = &stripped[close + 1..];
            }
            None => break,
        }
    }
    (head, path)
}

fn insert(map: &mut Map<String, Value>, head: &str, path: &[String], value: Value) {
    if path.is_empty() {
        map.insert(head.to_string(), value);
        return;
    }
    let entry = map
        .entry(head.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(inner) = entry {
        let next = if path[0].is_empty() {
            inner.len().to_string()
        } else {
            path[0].clone()
        };
        insert(inner, &next, &path[1..], value);
    }
}

fn arrays(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            // Keys 0..n in any order (a map sorts "10" before "2").
            let mut indices: Vec<usize> = map.keys().filter_map(|k| k.parse().ok()).collect();
            indices.sort_unstable();
            let sequential = !map.is_empty()
                && indices.len() == map.len()
                && indices.iter().enumerate().all(|(i, k)| i == *k);
            let mut converted: Vec<(String, Value)> =
                map.into_iter().map(|(k, v)| (k, arrays(v))).collect();
            if sequential {
                converted.sort_by_key(|(k, _)| k.parse::<usize>().unwrap_or(usize::MAX));
                Value::Array(converted.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(converted.into_iter().collect())
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_like_http_build_query() {
        let q = encode(
            &json!({"filter": {">ID": 5, "UF_TELEGRAM_ID": "42"}, "select": ["ID", "NAME"], "start": -1}),
        );
        // serde_json keeps keys sorted (no preserve_order): filter, select, start.
        assert_eq!(
            q,
            "filter%5B%3EID%5D=5&filter%5BUF_TELEGRAM_ID%5D=42&select%5B0%5D=ID&select%5B1%5D=NAME&start=-1"
        );
    }

    #[test]
    fn round_trips_into_strings() {
        let q =
            encode(&json!({"filter": {">ID": 5}, "select": ["ID", "NAME"], "fields": {"x": true}}));
        assert_eq!(
            decode(&q),
            json!({"filter": {">ID": "5"}, "select": ["ID", "NAME"], "fields": {"x": "1"}})
        );
        assert_eq!(decode("a[]=1&a[]=2"), json!({"a": ["1", "2"]}));
        let many: Vec<i64> = (0..12).collect();
        let decoded = decode(&encode(&json!({"ids": many})));
        assert_eq!(decoded["ids"].as_array().map(Vec::len), Some(12));
        assert_eq!(decoded["ids"][10], "10");
    }
}
