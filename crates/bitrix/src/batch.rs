//! `batch`: up to 50 commands in one request, each answered (or failed) on its own.

use super::*;

/// One command of a `batch`.
#[derive(Debug, Clone)]
pub struct Command {
    pub key: String,
    pub method: String,
    pub params: Value,
}

impl Command {
    pub fn new(key: impl Into<String>, method: impl Into<String>, params: Value) -> Self {
        Self {
            key: key.into(),
            method: method.into(),
            params,
        }
    }
    fn encoded(&self) -> String {
        format!("{}?{}", self.method, query::encode(&self.params))
    }
}

/// The answer of a `batch`: per command, its result or its error.
#[derive(Debug, Clone, Default)]
pub struct BatchAnswer {
    pub results: Map<String, Value>,
    pub errors: Map<String, Value>,
    pub totals: Map<String, Value>,
    pub nexts: Map<String, Value>,
}

impl BatchAnswer {
    /// The outcome of the command `key`: its result, or its error as [`Error::Api`].
    pub fn get(&self, key: &str) -> Result<&Value, Error> {
        if let Some(e) = self.errors.get(key).filter(|e| !e.is_null()) {
            return Err(Error::Api {
                status: 400,
                code: e
                    .get("error")
                    .and_then(as_text)
                    .unwrap_or_else(|| "ERROR".into()),
                description: e
                    .get("error_description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            });
        }
        self.results.get(key).ok_or_else(|| Error::Api {
            status: 400,
            code: "NO_RESULT".into(),
            description: format!("batch answered nothing for {key}"),
        })
    }
    pub fn total(&self, key: &str) -> Option<u64> {
        self.totals.get(key).and_then(as_u64)
    }
}

impl Client {
    /// Runs up to 50 commands in one request. `halt`: stop at the first failing command.
    pub async fn batch(
        &self,
        commands: &[Command],
        halt: bool,
        safety: Safety,
    ) -> Result<BatchAnswer, Error> {
        if commands.len() > BATCH_LIMIT {
            return Err(Error::BatchTooLarge(commands.len()));
        }
        let cmd: Map<String, Value> = commands
            .iter()
            .map(|c| (c.key.clone(), Value::String(c.encoded())))
            .collect();
        let answer = self
            .call(
                "batch",
                &json!({"halt": if halt { 1 } else { 0 }, "cmd": cmd}),
                safety,
            )
            .await?;
        let part = |name: &str| -> Map<String, Value> {
            match answer.result.get(name) {
                Some(Value::Object(m)) => m.clone(),
                // PHP encodes an empty array as [] rather than {}.
                Some(Value::Array(a)) => a
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v.clone()))
                    .collect(),
                _ => Map::new(),
            }
        };
        let batch = BatchAnswer {
            results: part("result"),
            errors: part("result_error"),
            totals: part("result_total"),
            nexts: part("result_next"),
        };
        // A command rate-limited inside the batch was not run: run those again.
        let limited: Vec<&Command> = commands
            .iter()
            .filter(|c| {
                batch
                    .errors
                    .get(&c.key)
                    .and_then(|e| e.get("error"))
                    .and_then(as_text)
                    .as_deref()
                    == Some(QUERY_LIMIT_EXCEEDED)
            })
            .collect();
        if limited.is_empty() {
            return Ok(batch);
        }
        let again: Vec<Command> = limited.into_iter().cloned().collect();
        let mut batch = batch;
        let retried = Box::pin(self.batch(&again, halt, safety)).await?;
        for c in &again {
            batch.errors.remove(&c.key);
        }
        batch.results.extend(retried.results);
        batch.errors.extend(retried.errors);
        batch.totals.extend(retried.totals);
        batch.nexts.extend(retried.nexts);
        Ok(batch)
    }
}
