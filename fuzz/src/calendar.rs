//! A reference Gregorian calendar for the `search_query` target, written
//! from the calendar's rules (leap years, month lengths) by counting, not
//! from the service's arithmetic (Howard Hinnant's era-based formula).

/// Whether `year` has a 29 February.
pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1-12) of `year`.
pub fn month_length(year: i64, month: u32) -> u32 {
    const LENGTHS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if month == 2 && is_leap(year) {
        29
    } else {
        LENGTHS[(month - 1) as usize]
    }
}

/// Days from 0000-01-01 to the first day of `year` (for `year` >= 0): 365
/// a year, plus one for each leap year before it.
fn days_before_year(year: i64) -> i64 {
    let leaps = |y: i64| y / 4 - y / 100 + y / 400;
    // Year 0 is a leap year; the years before `year` are 0..year.
    365 * year + if year > 0 { leaps(year - 1) + 1 } else { 0 }
}

/// Days since 1970-01-01 of a valid date with `year` >= 0.
pub fn days_since_epoch(year: i64, month: u32, day: u32) -> i64 {
    let before_month: i64 = (1..month).map(|m| i64::from(month_length(year, m))).sum();
    days_before_year(year) - days_before_year(1970) + before_month + i64::from(day) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days() {
        assert_eq!(days_since_epoch(1970, 1, 1), 0);
        assert_eq!(days_since_epoch(1969, 12, 31), -1);
        assert_eq!(days_since_epoch(2000, 3, 1), 11_017);
        assert_eq!(days_since_epoch(0, 1, 1), -719_528);
        assert_eq!(days_since_epoch(9999, 12, 31), 2_932_896);
    }
}
