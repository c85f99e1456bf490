//! `batch`: up to 50 `method?query` commands in one request, answered per command as PHP
//! renders it.

use super::*;

pub(crate) fn batch(inner: &mut Inner, params: &Value) -> Result<Reply, Failure> {
    let halt = params
        .get("halt")
        .and_then(bitrix::as_i64)
        .is_some_and(|h| h != 0);
    let commands: Vec<(String, String)> = match params.get("cmd") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v.as_str().unwrap_or("").to_string()))
            .collect(),
        _ => {
            return Err(err(
                400,
                "ERROR_BATCH_METHOD_NOT_ALLOWED",
                "cmd is required",
            ));
        }
    };
    if commands.len() > bitrix::BATCH_LIMIT {
        return Err(err(
            400,
            "ERROR_BATCH_LENGTH_EXCEEDED",
            "Max batch length exceeded",
        ));
    }
    let (mut results, mut errors, mut totals, mut nexts) =
        (Map::new(), Map::new(), Map::new(), Map::new());
    for (key, cmd) in commands {
        let (method, query) = cmd.split_once('?').unwrap_or((cmd.as_str(), ""));
        let method = method.to_lowercase();
        if method == "batch" {
            errors.insert(
                key,
                json!({"error": "ERROR_BATCH_METHOD_NOT_ALLOWED", "error_description": "Method is not allowed for batch usage"}),
            );
            if halt {
                break;
            }
            continue;
        }
        let injected = inner
            .command_failures
            .get_mut(&method)
            .and_then(VecDeque::pop_front);
        let outcome = match injected {
            Some(f) => Err(f),
            None => dispatch(inner, &method, &bitrix::query::decode(query)),
        };
        match outcome {
            Ok(reply) => {
                results.insert(key.clone(), reply.result);
                if let Some(t) = reply.total {
                    totals.insert(key.clone(), json!(t));
                }
                if let Some(n) = reply.next {
                    nexts.insert(key, json!(n));
                }
            }
            Err(f) => {
                errors.insert(
                    key,
                    json!({"error": error_code(&f.1), "error_description": f.2}),
                );
                if halt {
                    break;
                }
            }
        }
    }
    // PHP's json_encode writes an empty array as [].
    let php = |m: Map<String, Value>| {
        if m.is_empty() {
            json!([])
        } else {
            Value::Object(m)
        }
    };
    Ok(Reply::of(json!({
        "result": php(results), "result_error": php(errors), "result_total": php(totals),
        "result_next": php(nexts), "result_time": []
    })))
}
