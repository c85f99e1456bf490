//! Telegram's broadcast limits, kept on the sending side so messages are not refused: at most
//! `messages_per_second` overall, one message per `per_chat_interval` to a private chat, and
//! `group_messages_per_minute` to a group. Per process: with several instances, divide
//! `telegram.messages_per_second` between them (docs/BOT.md); a 429 that slips through is
//! honoured through the outbox's `retry_after` anyway.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::TelegramConfig;

/// Slack over Telegram's windows: clocks and the network are not exact.
const MARGIN: Duration = Duration::from_millis(15);

pub struct Limiter {
    per_second: usize,
    per_chat: Duration,
    group_per_minute: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    recent: VecDeque<Instant>,
    chats: HashMap<i64, VecDeque<Instant>>,
}

impl Limiter {
    pub fn new(config: &TelegramConfig) -> Self {
        Self {
            per_second: config.messages_per_second.max(1) as usize,
            per_chat: config.per_chat_interval,
            group_per_minute: config.group_messages_per_minute.max(1) as usize,
            state: Mutex::new(State::default()),
        }
    }

    /// Waits until a message to `chat` fits every limit, and books it.
    pub async fn acquire(&self, chat: i64) {
        loop {
            let wait = self.try_book(chat, Instant::now());
            match wait {
                None => return,
                Some(d) => tokio::time::sleep(d).await,
            }
        }
    }

    /// The call booked for `chat` has been answered: its window runs from now, not from the
    /// booking. Telegram counts a message when it arrives; a request held up on the way (a busy
    /// host, a slow network) would otherwise land less than a window before the next one.
    pub fn sent(&self, chat: i64) {
        self.mark_sent(chat, Instant::now());
    }

    fn mark_sent(&self, chat: i64, now: Instant) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = s.chats.get_mut(&chat).and_then(|v| v.back_mut()) {
            *t = (*t).max(now);
        }
    }

    /// None when booked now; otherwise how long to wait before trying again.
    fn try_book(&self, chat: i64, now: Instant) -> Option<Duration> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let second = Duration::from_secs(1) + MARGIN;
        while s
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= second)
        {
            s.recent.pop_front();
        }
        let (window, cap) = if chat < 0 {
            (Duration::from_secs(60) + MARGIN, self.group_per_minute)
        } else {
            (self.per_chat + MARGIN, 1)
        };
        let sends = s.chats.entry(chat).or_default();
        while sends
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            sends.pop_front();
        }
        let chat_wait = (sends.len() >= cap)
            .then(|| {
                sends
                    .front()
                    .map(|t| window.saturating_sub(now.duration_since(*t)))
            })
            .flatten();
        let all_wait = (s.recent.len() >= self.per_second)
            .then(|| {
                s.recent
                    .front()
                    .map(|t| second.saturating_sub(now.duration_since(*t)))
            })
            .flatten();
        match chat_wait.max(all_wait) {
            Some(d) => Some(d.max(Duration::from_millis(1))),
            None => {
                s.recent.push_back(now);
                s.chats.entry(chat).or_default().push_back(now);
                if s.chats.len() > 10_000 {
                    // Forget chats whose window has passed.
                    let per_chat = self.per_chat + MARGIN;
                    s.chats.retain(|_, v| {
                        v.back().is_some_and(|t| {
                            now.duration_since(*t) < per_chat.max(Duration::from_secs(61))
                        })
                    });
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: u32) -> Limiter {
        Limiter::new(&TelegramConfig {
            messages_per_second: per_second,
            ..TelegramConfig::default()
        })
    }

    #[test]
    fn the_window_runs_from_the_answer() {
        let l = limiter(30);
        let t0 = Instant::now();
        assert!(l.try_book(7, t0).is_none());
        // The request took 300 ms to be answered: the next one waits a window from then.
        l.mark_sent(7, t0 + Duration::from_millis(300));
        assert!(l.try_book(7, t0 + Duration::from_millis(1020)).is_some());
        assert!(l.try_book(7, t0 + Duration::from_millis(1320)).is_none());
    }

    #[test]
    fn one_message_per_second_per_private_chat() {
        let l = limiter(30);
        let t0 = Instant::now();
        assert!(l.try_book(7, t0).is_none());
        let wait = l
            .try_book(7, t0)
            .expect("second message to the same chat waits");
        assert!(wait > Duration::from_millis(900), "{wait:?}");
        assert!(l.try_book(8, t0).is_none(), "another chat is not held up");
        assert!(l.try_book(7, t0 + Duration::from_millis(1020)).is_none());
    }

    #[test]
    fn overall_cap_per_second() {
        let l = limiter(3);
        let t0 = Instant::now();
        for chat in 1..=3 {
            assert!(l.try_book(chat, t0).is_none());
        }
        assert!(
            l.try_book(4, t0).is_some(),
            "the fourth message in a second waits"
        );
        assert!(l.try_book(4, t0 + Duration::from_millis(1020)).is_none());
    }

    #[test]
    fn groups_get_twenty_per_minute() {
        let l = limiter(1000);
        let t0 = Instant::now();
        for i in 0..20 {
            assert!(l.try_book(-100, t0 + Duration::from_millis(i)).is_none());
        }
        let wait = l.try_book(-100, t0 + Duration::from_millis(30)).unwrap();
        assert!(wait > Duration::from_secs(59), "{wait:?}");
    }
}
