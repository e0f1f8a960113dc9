//! What a coupon takes off an amount.

/// How a coupon discounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discount {
    /// A percentage in hundredths of a percent (10 % = 1000), optionally capped (minor units).
    Percentage { basis_points: i64, cap: Option<i64> },
    /// A fixed amount in minor units.
    Fixed(i64),
}

impl Discount {
    /// The amount taken off `base` (minor units): a percentage rounded half-up and capped, a
    /// fixed amount; never more than `base`, never negative.
    pub fn amount_off(self, base: i64) -> i64 {
        let base = base.max(0);
        let off = match self {
            Discount::Percentage { basis_points, cap } => {
                let off = ((i128::from(base) * i128::from(basis_points) + 5_000) / 10_000) as i64;
                cap.map_or(off, |cap| off.min(cap))
            }
            Discount::Fixed(amount) => amount,
        };
        off.clamp(0, base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_half_up_and_respect_caps_and_the_base() {
        let ten = Discount::Percentage { basis_points: 1000, cap: None };
        assert_eq!(ten.amount_off(25_000), 2_500);
        assert_eq!(ten.amount_off(5), 1, "0.5 rounds up");
        assert_eq!(ten.amount_off(4), 0);
        assert_eq!(Discount::Percentage { basis_points: 1000, cap: Some(1_000) }.amount_off(25_000), 1_000);
        assert_eq!(Discount::Percentage { basis_points: 10_000, cap: None }.amount_off(700), 700);
        assert_eq!(Discount::Fixed(500).amount_off(25_000), 500);
        assert_eq!(Discount::Fixed(500).amount_off(300), 300, "never more than the amount");
        assert_eq!(Discount::Fixed(500).amount_off(-10), 0);
    }
}
