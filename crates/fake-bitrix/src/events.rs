//! Outbound events: the form-encoded posts the portal makes to the handlers `event.bind`
//! registered.

use super::*;

impl FakeBitrix {
    /// Posts an event to every handler bound for it, as the portal's event queue does:
    /// form-encoded `event`, `event_handler_id`, `data[FIELDS][ID]`, `ts`, `auth[…]`.
    pub async fn fire(&self, event: &str, id: i64) -> Vec<u16> {
        self.post_event(event, id, None).await
    }

    /// Posts `event` for element `id` to each handler bound for it, with `extra` form fields
    /// after the common ones; the HTTP status each handler answered (0: unreachable).
    pub(crate) async fn post_event(&self, event: &str, id: i64, extra: Option<&str>) -> Vec<u16> {
        let (handlers, token, ts) = {
            let inner = self.lock();
            (
                inner
                    .handlers
                    .iter()
                    .filter(|(_, e, _)| e.eq_ignore_ascii_case(event))
                    .cloned()
                    .collect::<Vec<_>>(),
                inner.application_token.clone(),
                inner.clock,
            )
        };
        let mut statuses = Vec::new();
        let client = reqwest::Client::new();
        for (hid, _, url) in handlers {
            let mut body = event_body(event, hid, id, ts, &token);
            if let Some(extra) = extra {
                body.push('&');
                body.push_str(extra);
            }
            let status = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            statuses.push(status);
        }
        statuses
    }
}

/// An event as the portal posts it.
pub fn event_body(event: &str, handler_id: i64, id: i64, ts: i64, token: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("event", event)
        .append_pair("event_handler_id", &handler_id.to_string())
        .append_pair("data[FIELDS][ID]", &id.to_string())
        .append_pair("ts", &ts.to_string())
        .append_pair("auth[domain]", "shop.example.ru")
        .append_pair("auth[client_endpoint]", "https://shop.example.ru/rest/")
        .append_pair("auth[member_id]", "fake-member")
        .append_pair("auth[application_token]", token)
        .finish()
}
