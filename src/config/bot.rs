//! `[bot]` (what the bot sends on its own: the cart reminder, and when it stays quiet) and
//! `[shop]` (the shop's time zone).

use super::*;

/// Messages the bot sends by itself, not in answer to an order event.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BotConfig {
    /// A cart left with goods this long gets one reminder from the bot. `0s` turns it off.
    #[serde(with = "humantime_serde")]
    pub cart_reminder_after: Duration,
    /// Hours in the shop's time zone (`shop.time_zone`) when the bot sends nothing on its own
    /// (`HH:MM-HH:MM`, may wrap midnight; empty: never quiet). A reminder due then waits for
    /// the end of them.
    pub quiet_hours: QuietHours,
}

impl Default for BotConfig {
    fn default() -> Self {
        Self {
            cart_reminder_after: Duration::from_secs(3 * 3600),
            quiet_hours: QuietHours {
                start: 22 * 60,
                end: 9 * 60,
            },
        }
    }
}

/// Quiet hours as minutes after local midnight: from `start` (inclusive) to `end`
/// (exclusive), wrapping midnight when `start > end`; `start == end` is never quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuietHours {
    pub start: u16,
    pub end: u16,
}

impl QuietHours {
    /// Whether `minute` (after local midnight) is quiet.
    pub fn contains(self, minute: u16) -> bool {
        match self.start.cmp(&self.end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => minute >= self.start && minute < self.end,
            std::cmp::Ordering::Greater => minute >= self.start || minute < self.end,
        }
    }
}

fn parse_minute(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':').unwrap_or((s.trim(), "0"));
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some((h * 60 + m) % (24 * 60))
}

impl TryFrom<String> for QuietHours {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.trim().is_empty() {
            return Ok(QuietHours { start: 0, end: 0 });
        }
        let bad = || format!("expected quiet hours as HH:MM-HH:MM (e.g. 22:00-09:00), got {s:?}");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        Ok(QuietHours {
            start: parse_minute(a).ok_or_else(bad)?,
            end: parse_minute(b).ok_or_else(bad)?,
        })
    }
}

impl From<QuietHours> for String {
    fn from(q: QuietHours) -> String {
        if q.start == q.end {
            return String::new();
        }
        format!(
            "{:02}:{:02}-{:02}:{:02}",
            q.start / 60,
            q.start % 60,
            q.end / 60,
            q.end % 60
        )
    }
}

/// The shop itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShopConfig {
    /// The shop's IANA time zone (`Europe/Moscow`, `Asia/Yekaterinburg`): the bot's quiet
    /// hours and the staff desk's days (date filters, the summary, the CSV export) are in it.
    pub time_zone: String,
}

impl Default for ShopConfig {
    fn default() -> Self {
        Self {
            time_zone: "Europe/Moscow".into(),
        }
    }
}

impl ShopConfig {
    /// The time zone, as validation has checked it exists.
    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// The zone's offset from UTC now, in milliseconds east. The desk counts its days with one
    /// offset per request (SQL groups by it): exact for Russia, which keeps no daylight saving
    /// time; elsewhere a day across a clock change may be off by that hour.
    pub fn utc_offset_ms(&self) -> i64 {
        i64::from(self.tz().to_offset(jiff::Timestamp::now()).seconds()) * 1000
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            return invalid(
                "shop.time_zone",
                format!(
                    "expected an IANA time zone such as Europe/Moscow, got {:?}",
                    self.time_zone
                ),
            );
        }
        Ok(())
    }
}
