//! List methods: filters with the documented prefixes, `order`, `select`, and 50-row pages
//! with `start`/`next`/`total` (recent filtered id lists cached until the next write).

use super::*;

pub(crate) fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub(crate) fn cmp(a: &Value, b: &Value) -> std::cmp::Ordering {
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
    }
    // Dates: compare as instants when both parse.
    if let (Some(x), Some(y)) = (
        bitrix::time::parse(&text(a)).filter(|_| text(a).len() >= 19),
        bitrix::time::parse(&text(b)).filter(|_| text(b).len() >= 19),
    ) {
        return x.cmp(&y);
    }
    text(a).cmp(&text(b))
}

pub(crate) fn field<'a>(row: &'a Value, name: &str) -> &'a Value {
    // Bitrix filters are case-insensitive on field names.
    if let Value::Object(m) = row {
        if let Some(v) = m.get(name) {
            return v;
        }
        if let Some((_, v)) = m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            return v;
        }
    }
    &Value::Null
}

pub(crate) fn matches(row: &Value, filter: &Value) -> bool {
    let Value::Object(f) = filter else {
        return true;
    };
    f.iter().all(|(key, want)| {
        let (op, name) = ["!@", "!=", ">=", "<=", ">", "<", "=", "!", "@"]
            .iter()
            .find_map(|op| key.strip_prefix(op).map(|rest| (*op, rest)))
            .unwrap_or(("", key.as_str()));
        let have = field(row, name);
        let eq = |w: &Value| cmp(have, w) == std::cmp::Ordering::Equal;
        match op {
            ">" => cmp(have, want).is_gt(),
            ">=" => cmp(have, want).is_ge(),
            "<" => cmp(have, want).is_lt(),
            "<=" => cmp(have, want).is_le(),
            "!" | "!=" | "!@" => match want {
                Value::Array(a) => !a.iter().any(eq),
                w => !eq(w),
            },
            _ => match want {
                Value::Array(a) => a.iter().any(eq),
                w => eq(w),
            },
        }
    })
}

pub(crate) fn select(row: &Value, select: Option<&Value>) -> Value {
    let Some(Value::Array(fields)) = select else {
        return row.clone();
    };
    if fields.is_empty() || fields.iter().any(|f| f == "*") {
        return row.clone();
    }
    let mut out = Map::new();
    for f in fields {
        let name = text(f);
        if let Value::Object(m) = row
            && let Some((k, v)) = m.iter().find(|(k, _)| k.eq_ignore_ascii_case(&name))
        {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

pub(crate) fn list_cached(
    inner: &mut Inner,
    table: &'static str,
    params: &Value,
    wrap: Option<&str>,
) -> Reply {
    let mut key_params = params.clone();
    if let Value::Object(m) = &mut key_params {
        m.remove("start");
        m.remove("select");
        m.remove("SELECT");
    }
    let key = format!("{table}:{key_params}");
    if !inner.lists.contains_key(&key) {
        let ids: Vec<i64> = {
            let mut all = params.clone();
            if let Value::Object(m) = &mut all {
                m.insert("start".into(), json!(-1));
                m.insert("select".into(), json!(["*"]));
            }
            let rows = inner.rows_of(table);
            let filter = all.get("filter").or_else(|| all.get("FILTER"));
            let mut rows: Vec<&Value> = rows
                .into_iter()
                .filter(|r| filter.is_none_or(|f| matches(r, f)))
                .collect();
            sort_rows(&mut rows, &all);
            rows.iter()
                .filter_map(|r| bitrix::as_i64(field(r, "id")))
                .collect()
        };
        if inner.lists.len() > 64 {
            inner.lists.clear();
        }
        inner.lists.insert(key.clone(), ids);
    }
    let ids = inner.lists.get(&key).cloned().unwrap_or_default();
    let table_rows = inner.tables.get(table);
    let rows = ids
        .iter()
        .filter_map(|id| table_rows.and_then(|t| t.get(id)));
    let mut unfiltered = params.clone();
    if let Value::Object(m) = &mut unfiltered {
        m.remove("filter");
        m.remove("FILTER");
        m.remove("order");
        m.remove("ORDER");
    }
    list(rows, &unfiltered, wrap)
}

pub(crate) fn sort_rows(rows: &mut [&Value], params: &Value) {
    if let Some(Value::Object(order)) = params.get("order").or_else(|| params.get("ORDER")) {
        let keys: Vec<(String, bool)> = order
            .iter()
            .map(|(k, v)| (k.clone(), text(v).eq_ignore_ascii_case("desc")))
            .collect();
        rows.sort_by(|a, b| {
            for (k, desc) in &keys {
                let o = cmp(field(a, k), field(b, k));
                let o = if *desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
}

/// Filter, order, page and select `rows` as a list method does. `wrap`: the key the newer
/// methods put the list under (`products`), or None for a bare array.
pub(crate) fn list<'a>(
    rows: impl IntoIterator<Item = &'a Value>,
    params: &Value,
    wrap: Option<&str>,
) -> Reply {
    let filter = params.get("filter").or_else(|| params.get("FILTER"));
    let mut rows: Vec<&Value> = rows
        .into_iter()
        .filter(|r| filter.is_none_or(|f| matches(r, f)))
        .collect();
    sort_rows(&mut rows, params);
    let start = params.get("start").and_then(bitrix::as_i64).unwrap_or(0);
    let total = rows.len();
    let (from, counted) = if start < 0 {
        (0, false)
    } else {
        (start as usize, true)
    };
    let page: Vec<Value> = rows
        .iter()
        .skip(from)
        .take(bitrix::PAGE_SIZE)
        .map(|r| select(r, params.get("select").or_else(|| params.get("SELECT"))))
        .collect();
    let next =
        (counted && from + bitrix::PAGE_SIZE < total).then(|| (from + bitrix::PAGE_SIZE) as u64);
    let result = match wrap {
        Some(key) => json!({ key: page }),
        None => Value::Array(page),
    };
    Reply {
        result,
        next,
        total: counted.then_some(total as u64),
    }
}

pub(crate) fn required_id(params: &Value) -> Result<i64, Failure> {
    params
        .get("id")
        .or_else(|| params.get("ID"))
        .and_then(bitrix::as_i64)
        .ok_or_else(|| err(400, "ERROR_CORE", "Required parameter id is missing"))
}

pub(crate) fn fields(params: &Value) -> Value {
    params
        .get("fields")
        .or_else(|| params.get("FIELDS"))
        .cloned()
        .unwrap_or_else(|| json!({}))
}

pub(crate) fn scope_check(inner: &Inner, scope: &str) -> Result<(), Failure> {
    if inner.scopes.iter().any(|s| s == scope) {
        Ok(())
    } else {
        Err(err(
            401,
            "insufficient_scope",
            "The request requires higher privileges than provided by the webhook token",
        ))
    }
}
