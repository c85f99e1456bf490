//! Exact decimal numbers for money and quantities.
//!
//! CommerceML writes numbers as text: `657.8` in `ЦенаЗаЕдиницу`, `2.383` in
//! `Количество`, and human-formatted `1 719` / `657,8` in `Представление`.
//! [`Decimal`] keeps them exact (no floats anywhere): an `i64` mantissa and a
//! power-of-ten scale, always normalized (no trailing fractional zeros), so
//! `1.50` and `1.5` are the same value and compare equal with `==`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Largest supported number of fractional digits (10^18 still fits in `i64`).
pub const MAX_SCALE: u32 = 18;

/// An exact decimal number: `mantissa × 10^-scale`.
///
/// Always normalized: `scale` is the smallest possible (no trailing zeros in
/// the fraction), and zero is `0 × 10^0`. Hence derived equality and hashing
/// compare numeric values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Decimal {
    mantissa: i64,
    scale: u32,
}

/// Why a string is not a decimal number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {input:?}")]
pub struct ParseDecimalError {
    /// The text that was parsed (trimmed).
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal {
        mantissa: 0,
        scale: 0,
    };

    /// `mantissa × 10^-scale`, normalized.
    ///
    /// `scale` larger than [`MAX_SCALE`] is reduced by dividing the mantissa
    /// only while that is exact; otherwise the value is kept as given.
    pub fn new(mantissa: i64, scale: u32) -> Self {
        let mut d = Decimal { mantissa, scale };
        d.normalize();
        d
    }

    /// The integer mantissa (`value = mantissa / 10^scale`).
    pub fn mantissa(&self) -> i64 {
        self.mantissa
    }

    /// Number of fractional decimal digits.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// `true` for zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// `true` for values below zero (real stock balances can be negative).
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// The value in minor units of the given scale, exactly: for money with
    /// kopecks use `to_minor_units(2)` (`657.8` → `65780`). `None` if that
    /// would need rounding (`0.005` at scale 2) or overflow `i64`.
    pub fn to_minor_units(&self, scale: u32) -> Option<i64> {
        if scale >= self.scale {
            let factor = 10i64.checked_pow(scale - self.scale)?;
            self.mantissa.checked_mul(factor)
        } else {
            let factor = 10i64.checked_pow(self.scale - scale)?;
            if self.mantissa % factor == 0 {
                Some(self.mantissa / factor)
            } else {
                None
            }
        }
    }

    /// Parses decimal text the way 1C writes it.
    ///
    /// Accepts an optional sign, `.` or `,` as the decimal separator, and
    /// spaces (also no-break and thin spaces) as thousands separators in the
    /// integer part: `"1 234,50"`, `"1234.5"`, `"0"`, `"-23.956"`, `" 1 719"`.
    /// Rejects empty text, letters, exponents, two separators, and values
    /// that do not fit (`i64` mantissa, at most 18 fractional digits).
    pub fn parse(text: &str) -> Result<Self, ParseDecimalError> {
        let trimmed = text.trim_matches(is_space);
        let err = |reason: &'static str| ParseDecimalError {
            input: trimmed.to_owned(),
            reason,
        };
        if trimmed.is_empty() {
            return Err(err("empty number"));
        }
        let mut chars = trimmed.chars().peekable();
        let negative = match chars.peek() {
            Some('-') => {
                chars.next();
                true
            }
            Some('+') => {
                chars.next();
                false
            }
            _ => false,
        };
        let mut mantissa: i128 = 0;
        let mut scale: u32 = 0;
        let mut digits = 0usize;
        let mut in_fraction = false;
        let mut last_was_space = false;
        for c in chars {
            match c {
                '0'..='9' => {
                    let digit = i128::from(c as u8 - b'0');
                    mantissa = mantissa
                        .checked_mul(10)
                        .and_then(|m| m.checked_add(digit))
                        .ok_or_else(|| err("number is too large"))?;
                    if mantissa > i128::from(i64::MAX) + 1 {
                        return Err(err("number is too large"));
                    }
                    if in_fraction {
                        scale += 1;
                    }
                    digits += 1;
                    last_was_space = false;
                }
                '.' | ',' => {
                    if in_fraction {
                        return Err(err("more than one decimal separator"));
                    }
                    if last_was_space {
                        return Err(err("space before the decimal separator"));
                    }
                    in_fraction = true;
                }
                c if is_space(c) => {
                    if in_fraction {
                        return Err(err("space in the fractional part"));
                    }
                    if digits == 0 {
                        return Err(err("space after the sign"));
                    }
                    last_was_space = true;
                }
                _ => return Err(err("not a decimal number")),
            }
        }
        if digits == 0 {
            return Err(err("no digits"));
        }
        if negative {
            mantissa = -mantissa;
        }
        // Strip trailing fractional zeros before range checks: "1.5000…0" is fine.
        while scale > 0 && mantissa % 10 == 0 {
            mantissa /= 10;
            scale -= 1;
        }
        if scale > MAX_SCALE {
            return Err(err("more than 18 fractional digits"));
        }
        let mantissa = i64::try_from(mantissa).map_err(|_| err("number is too large"))?;
        Ok(Decimal::new(mantissa, scale))
    }

    fn normalize(&mut self) {
        if self.mantissa == 0 {
            self.scale = 0;
            return;
        }
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
    }

    fn cmp_value(&self, other: &Self) -> Ordering {
        if self.scale <= other.scale {
            cmp_scaled(self.mantissa, other.scale - self.scale, other.mantissa)
        } else {
            cmp_scaled(other.mantissa, self.scale - other.scale, self.mantissa).reverse()
        }
    }
}

/// Compares `a × 10^shift` with `b` without overflowing.
fn cmp_scaled(a: i64, shift: u32, b: i64) -> Ordering {
    match 10i128
        .checked_pow(shift)
        .and_then(|factor| i128::from(a).checked_mul(factor))
    {
        Some(scaled) => scaled.cmp(&i128::from(b)),
        // |a × 10^shift| exceeds any i64 unless a is zero.
        None => a.cmp(&0).then_with(|| 0.cmp(&b)),
    }
}

fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | '\r' | '\u{a0}' | '\u{2007}' | '\u{2009}' | '\u{202f}'
    )
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_value(other)
    }
}

impl FromStr for Decimal {
    type Err = ParseDecimalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::parse(s)
    }
}

impl From<i64> for Decimal {
    fn from(value: i64) -> Self {
        Decimal::new(value, 0)
    }
}

impl fmt::Display for Decimal {
    /// Plain notation with a dot: `-23.956`, `657.8`, `0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        if digits.len() > scale {
            let (int, frac) = digits.split_at(digits.len() - scale);
            write!(f, "{sign}{int}.{frac}")
        } else {
            write!(f, "{sign}0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn parses_1c_formats() {
        assert_eq!(d("1 234,50"), Decimal::new(123450, 2));
        assert_eq!(d("1234.5"), Decimal::new(12345, 1));
        assert_eq!(d("0"), Decimal::ZERO);
        assert_eq!(d("-0"), Decimal::ZERO);
        assert_eq!(d("2.383"), Decimal::new(2383, 3));
        assert_eq!(d("-23.956"), Decimal::new(-23956, 3));
        assert_eq!(d(" 1 719"), Decimal::new(1719, 0));
        assert_eq!(d("1\u{a0}719,00"), Decimal::new(1719, 0));
        assert_eq!(d("0.250571"), Decimal::new(250571, 6));
        assert_eq!(d("+5"), Decimal::new(5, 0));
        assert_eq!(d(".5"), Decimal::new(5, 1));
    }

    #[test]
    fn normalizes() {
        let a = d("1.50");
        assert_eq!(a.mantissa(), 15);
        assert_eq!(a.scale(), 1);
        assert_eq!(a, d("1.5"));
        assert_eq!(Decimal::new(100, 2), Decimal::new(1, 0));
        assert_eq!(d("100"), Decimal::new(100, 0));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "", " ", "abc", "1.2.3", "1,2.3", "12a", "1e5", "-", ".", "1 2,3 4", "1 .5", "- 1",
        ] {
            assert!(Decimal::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(Decimal::parse("99999999999999999999").is_err());
        assert!(Decimal::parse("0.0000000000000000001").is_err());
        assert_eq!(
            d("9223372036854775807"),
            Decimal::new(i64::MAX, 0),
            "i64::MAX fits"
        );
        assert_eq!(d("-9223372036854775808"), Decimal::new(i64::MIN, 0));
    }

    #[test]
    fn minor_units() {
        assert_eq!(d("657.8").to_minor_units(2), Some(65780));
        assert_eq!(d("1 234,50").to_minor_units(2), Some(123450));
        assert_eq!(d("0.005").to_minor_units(2), None);
        assert_eq!(d("-7.46").to_minor_units(3), Some(-7460));
        assert_eq!(d("900").to_minor_units(0), Some(900));
        assert_eq!(
            d("92233720368547758").to_minor_units(2),
            Some(9_223_372_036_854_775_800)
        );
        assert_eq!(d("92233720368547759").to_minor_units(2), None, "overflow");
    }

    #[test]
    fn display_and_order() {
        assert_eq!(d("-0.249").to_string(), "-0.249");
        assert_eq!(d("657.80").to_string(), "657.8");
        assert_eq!(d("0.067").to_string(), "0.067");
        assert_eq!(d("1 234,50").to_string(), "1234.5");
        assert_eq!(Decimal::ZERO.to_string(), "0");
        assert!(d("2.383") > d("2.38"));
        assert!(d("-1") < d("0.001"));
        assert_eq!(d("1.0").cmp(&d("1")), Ordering::Equal);
        // Scales far apart do not overflow.
        assert!(Decimal::new(1, 60) < Decimal::new(1, 0));
        assert!(Decimal::new(-1, 60) > Decimal::new(-1, 0));
        assert!(Decimal::new(5, 60) > Decimal::ZERO);
    }
}
