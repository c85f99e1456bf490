//! Reading whole lists with the fewest requests the portal allows: offset pages batched 50
//! at a time once the total is known, or the docs' ID cursor for big and open-ended lists.

use super::*;

impl Client {
    /// Every item of a list method, with offset paging: the first page tells the total, then
    /// the remaining pages go 50 to a `batch` (one request per 2,500 items).
    /// `on_page` sees each page's items as they arrive.
    pub async fn list_all(
        &self,
        method: &str,
        params: &Value,
        mut on_page: impl FnMut(Vec<Value>),
    ) -> Result<u64, Error> {
        let first = self.call(method, params, Safety::Safe).await?;
        let total = first.total.unwrap_or(0);
        let mut seen = 0u64;
        let page = items(&first.result);
        seen += page.len() as u64;
        on_page(page);
        let Some(mut start) = first.next else {
            return Ok(seen);
        };
        while start < total {
            let mut commands = Vec::new();
            while commands.len() < BATCH_LIMIT && start < total {
                let mut p = params.clone();
                if let Value::Object(m) = &mut p {
                    m.insert("start".into(), json!(start));
                }
                commands.push(Command::new(format!("p{start}"), method, p));
                start += PAGE_SIZE as u64;
            }
            let answer = self.batch(&commands, false, Safety::Safe).await?;
            for c in &commands {
                let page = items(answer.get(&c.key)?);
                seen += page.len() as u64;
                on_page(page);
            }
        }
        Ok(seen)
    }

    /// Every item of several list methods at once, with the fewest requests offset paging
    /// allows: the first page of every list in one `batch` (which tells the totals), then all
    /// the remaining pages of all lists packed 50 to a `batch`. `on_page(i, items)` gets the
    /// pages of list `i` (in no particular order across lists). Returns the items per list.
    pub async fn list_many(
        &self,
        lists: &[(&str, Value)],
        mut on_page: impl FnMut(usize, Vec<Value>),
    ) -> Result<Vec<u64>, Error> {
        let mut seen = vec![0u64; lists.len()];
        let with_start = |params: &Value, start: u64| {
            let mut p = params.clone();
            if let Value::Object(m) = &mut p {
                m.insert("start".into(), json!(start));
            }
            p
        };
        // Remaining pages: (list, start).
        let mut pending: Vec<(usize, u64)> = Vec::new();
        for chunk in (0..lists.len()).collect::<Vec<_>>().chunks(BATCH_LIMIT) {
            let commands: Vec<Command> = chunk
                .iter()
                .map(|&i| Command::new(format!("l{i}s0"), lists[i].0, with_start(&lists[i].1, 0)))
                .collect();
            let answer = self.batch(&commands, false, Safety::Safe).await?;
            for &i in chunk {
                let key = format!("l{i}s0");
                let page = items(answer.get(&key)?);
                seen[i] += page.len() as u64;
                on_page(i, page);
                let total = answer.total(&key).unwrap_or(0);
                let mut start = PAGE_SIZE as u64;
                while start < total {
                    pending.push((i, start));
                    start += PAGE_SIZE as u64;
                }
            }
        }
        for chunk in pending.chunks(BATCH_LIMIT) {
            let commands: Vec<Command> = chunk
                .iter()
                .map(|&(i, start)| {
                    Command::new(
                        format!("l{i}s{start}"),
                        lists[i].0,
                        with_start(&lists[i].1, start),
                    )
                })
                .collect();
            let answer = self.batch(&commands, false, Safety::Safe).await?;
            for (&(i, _), c) in chunk.iter().zip(&commands) {
                let page = items(answer.get(&c.key)?);
                seen[i] += page.len() as u64;
                on_page(i, page);
            }
        }
        Ok(seen)
    }

    /// The fewest requests [`Client::list_many`] can make for lists of these sizes.
    pub fn minimum_requests(sizes: &[u64]) -> u64 {
        let pages: u64 = sizes
            .iter()
            .map(|n| n.div_ceil(PAGE_SIZE as u64).max(1))
            .sum();
        let lists = sizes.len() as u64;
        lists.div_ceil(BATCH_LIMIT as u64) + (pages - lists).div_ceil(BATCH_LIMIT as u64)
    }

    /// Every item of a list method by ID cursor (`order ID asc`, `filter >ID`, `start -1`):
    /// no count on the portal's side, stable under concurrent inserts. `id_field` is the
    /// method's spelling (`ID` for user.get, `id` for catalog.*).
    pub async fn list_by_id(
        &self,
        method: &str,
        params: &Value,
        id_field: &str,
        on_page: impl FnMut(Vec<Value>),
    ) -> Result<u64, Error> {
        self.list_by_id_after(method, params, id_field, 0, on_page)
            .await
    }

    /// [`Client::list_by_id`] from the item after `after`.
    pub async fn list_by_id_after(
        &self,
        method: &str,
        params: &Value,
        id_field: &str,
        after: i64,
        mut on_page: impl FnMut(Vec<Value>),
    ) -> Result<u64, Error> {
        let mut last = after;
        let mut seen = 0u64;
        loop {
            let p = cursor_params(params, id_field, last)?;
            let answer = self.call(method, &p, Safety::Safe).await?;
            let page = items(&answer.result);
            let n = page.len();
            last = last_id(&page, id_field).unwrap_or(last);
            seen += n as u64;
            on_page(page);
            if n < PAGE_SIZE {
                return Ok(seen);
            }
        }
    }

    /// Several ID-cursor lists: their first pages in one `batch`, then each list that has more
    /// continued on its own. Small change sets cost one request.
    pub async fn list_by_id_many(
        &self,
        lists: &[(&str, Value, &str)],
        mut on_page: impl FnMut(usize, Vec<Value>),
    ) -> Result<Vec<u64>, Error> {
        let mut seen = vec![0u64; lists.len()];
        let mut more = Vec::new();
        for chunk in (0..lists.len()).collect::<Vec<_>>().chunks(BATCH_LIMIT) {
            let mut commands = Vec::new();
            for &i in chunk {
                let (method, params, id_field) = &lists[i];
                commands.push(Command::new(
                    format!("c{i}"),
                    *method,
                    cursor_params(params, id_field, 0)?,
                ));
            }
            let answer = self.batch(&commands, false, Safety::Safe).await?;
            for &i in chunk {
                let page = items(answer.get(&format!("c{i}"))?);
                let n = page.len();
                let last = last_id(&page, lists[i].2);
                seen[i] += n as u64;
                on_page(i, page);
                if n >= PAGE_SIZE
                    && let Some(last) = last
                {
                    more.push((i, last));
                }
            }
        }
        for (i, last) in more {
            let (method, params, id_field) = &lists[i];
            seen[i] += self
                .list_by_id_after(method, params, id_field, last, |page| on_page(i, page))
                .await?;
        }
        Ok(seen)
    }
}

/// `params` for one page of an ID-cursor list after `last`.
fn cursor_params(params: &Value, id_field: &str, last: i64) -> Result<Value, Error> {
    let mut p = params.clone();
    let Value::Object(m) = &mut p else {
        return Err(Error::Decode("list params must be an object".into()));
    };
    let mut filter = m
        .get("filter")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    filter.insert(format!(">{id_field}"), json!(last));
    m.insert("filter".into(), Value::Object(filter));
    m.insert("order".into(), json!({ id_field: "ASC" }));
    m.insert("start".into(), json!(-1));
    Ok(p)
}

fn last_id(page: &[Value], id_field: &str) -> Option<i64> {
    page.iter()
        .filter_map(|i| i.get(id_field).or_else(|| i.get("ID")).and_then(as_i64))
        .max()
}
