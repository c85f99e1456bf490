//! Reading Bitrix's JSON: the same field comes as a string or a number depending on the
//! module and version, and lists come as an array or wrapped in an object.

use serde_json::Value;

/// A string or a number as text: Bitrix answers either for the same field (ids, file ids,
/// and error codes: `QUERY_LIMIT_EXCEEDED`, or in newer modules such as `catalog` a number,
/// `200040300010`, `0`).
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The values of a catalog property as an element list shows them: `{value, valueId}`, a
/// list of those for a multiple property, or a bare value; empty ones left out.
pub fn property_values(v: Option<&Value>) -> Vec<String> {
    fn one(v: &Value) -> Option<String> {
        as_text(v.get("value").unwrap_or(v)).filter(|t| !t.is_empty())
    }
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(one).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(v) => one(v).into_iter().collect(),
    }
}

/// Numbers in Bitrix answers are often strings ("42").
pub fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `"123.45"` or `123.45` → 12345 minor units (2 decimals, rounded).
pub fn minor_units(v: &Value) -> Option<i64> {
    let f = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    Some((f * 100.0).round() as i64)
}

/// The items of a list answer: `result` itself, or `result.<key>` for the newer methods
/// (`catalog.product.list` → `{"products": […]}`).
pub fn items(result: &Value) -> Vec<Value> {
    match result {
        Value::Array(a) => a.clone(),
        Value::Object(m) => m
            .values()
            .find_map(|v| v.as_array().cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
