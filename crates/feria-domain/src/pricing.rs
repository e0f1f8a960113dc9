//! Order and cart totals (ARCHITECTURE.md "Domain rules"), in minor units, rounding half-up.
//!
//! Per line, net = unit price × quantity. A coupon discounts net amounts first: a percentage
//! per line; a fixed amount (or a capped percentage that hit its cap) allocated across lines in
//! proportion to their net, the remainder to the largest line, so the parts add up exactly.
//! Tax per line = discounted net × rate. subtotal = Σ net, discount = Σ discount,
//! tax = Σ tax, total = subtotal − discount + tax + shipping.

use crate::coupon::Discount;

/// One line as priced: unit price (net, minor units), quantity, tax rate (hundredths of a
/// percent: 21 % = 2100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInput {
    pub unit_price: i64,
    pub quantity: i64,
    pub tax_rate_bp: i64,
}

/// One line's amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineTotals {
    pub net: i64,
    pub discount: i64,
    pub tax: i64,
}

impl LineTotals {
    /// Net after discount plus tax.
    pub fn total(&self) -> i64 {
        self.net - self.discount + self.tax
    }
}

/// The amounts of a whole order or cart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Totals {
    pub lines: Vec<LineTotals>,
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub shipping: i64,
    pub total: i64,
}

/// The most units of one product in an order line or a cart.
pub const MAX_QUANTITY: i64 = 100_000;

/// The largest total (minor units) an order or cart may reach; beyond it the order is refused
/// instead of its totals wrapping around.
pub const MAX_TOTAL: i64 = crate::money::MAX_SCALED;

/// The amounts would pass [`MAX_TOTAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

/// `amount × basis_points / 10 000`, rounded half-up (amounts are never negative here;
/// saturates, and the sums it feeds are checked against [`MAX_TOTAL`]).
fn share(amount: i64, basis_points: i64) -> i64 {
    i64::try_from((i128::from(amount) * i128::from(basis_points) + 5_000) / 10_000).unwrap_or(i64::MAX)
}

/// The sum of `values`, when it is at most [`MAX_TOTAL`].
fn bounded_sum(values: impl IntoIterator<Item = i64>) -> Result<i64, TooLarge> {
    values.into_iter().try_fold(0i64, |sum, v| sum.checked_add(v)).filter(|s| *s <= MAX_TOTAL).ok_or(TooLarge)
}

/// Splits `amount` (at most the sum of `nets`) across `nets` in proportion, rounding down; the
/// remainder goes to the largest net (spilling to the next largest only if a line would be
/// discounted beyond its net).
fn allocate(amount: i64, nets: &[i64]) -> Vec<i64> {
    let total: i64 = nets.iter().sum();
    if total == 0 {
        return vec![0; nets.len()];
    }
    let mut parts: Vec<i64> = nets.iter().map(|n| (i128::from(amount) * i128::from(*n) / i128::from(total)) as i64).collect();
    let mut remainder = amount - parts.iter().sum::<i64>();
    let mut largest_first: Vec<usize> = (0..nets.len()).collect();
    largest_first.sort_by_key(|i| (std::cmp::Reverse(nets[*i]), *i));
    for i in largest_first {
        let extra = remainder.min(nets[i] - parts[i]);
        parts[i] += extra;
        remainder -= extra;
    }
    parts
}

/// Prices `lines` with an optional coupon discount and a shipping cost; refused when any
/// amount would pass [`MAX_TOTAL`].
pub fn totals(lines: &[LineInput], discount: Option<Discount>, shipping: i64) -> Result<Totals, TooLarge> {
    let nets = lines.iter().map(|l| l.unit_price.checked_mul(l.quantity).ok_or(TooLarge)).collect::<Result<Vec<i64>, _>>()?;
    let subtotal = bounded_sum(nets.iter().copied())?;
    let discounts: Vec<i64> = match discount {
        None => vec![0; nets.len()],
        Some(Discount::Percentage { basis_points, cap }) => {
            let per_line: Vec<i64> = nets.iter().map(|n| share(*n, basis_points).min(*n)).collect();
            match cap {
                Some(cap) if per_line.iter().sum::<i64>() > cap => allocate(cap, &nets),
                _ => per_line,
            }
        }
        Some(Discount::Fixed(amount)) => allocate(amount.clamp(0, subtotal), &nets),
    };
    let line_totals: Vec<LineTotals> = lines
        .iter()
        .zip(nets.iter().zip(&discounts))
        .map(|(line, (net, discount))| LineTotals { net: *net, discount: *discount, tax: share(net - discount, line.tax_rate_bp) })
        .collect();
    let discount = bounded_sum(discounts.iter().copied())?;
    let tax = bounded_sum(line_totals.iter().map(|l| l.tax))?;
    let total = bounded_sum([subtotal - discount, tax, shipping])?;
    Ok(Totals { lines: line_totals, subtotal, discount, tax, shipping, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(unit_price: i64, quantity: i64, tax_rate_bp: i64) -> LineInput {
        LineInput { unit_price, quantity, tax_rate_bp }
    }

    #[test]
    fn amounts_past_the_maximum_are_refused_not_wrapped() {
        assert_eq!(totals(&[line(i64::MAX / 2, 3, 0)], None, 0), Err(TooLarge));
        assert_eq!(totals(&[line(MAX_TOTAL, 1, 0), line(1, 1, 0)], None, 0), Err(TooLarge));
        assert_eq!(totals(&[line(MAX_TOTAL, 1, 2100)], None, 0), Err(TooLarge));
        assert_eq!(totals(&[line(MAX_TOTAL, 1, 0)], None, 0).map(|t| t.total), Ok(MAX_TOTAL));
    }

    #[test]
    fn the_golden_case() {
        // 100×2 at 21 % plus 50×1 at 10.5 % with 10 % off.
        let t = totals(&[line(10_000, 2, 2100), line(5_000, 1, 1050)], Some(Discount::Percentage { basis_points: 1000, cap: None }), 0)
            .unwrap();
        assert_eq!((t.subtotal, t.discount, t.tax, t.total), (25_000, 2_500, 4_253, 26_753));
        assert_eq!(t.lines[1], LineTotals { net: 5_000, discount: 500, tax: 473 });
    }

    #[test]
    fn fixed_and_capped_discounts_are_allocated_exactly() {
        let lines = [line(333, 1, 2100), line(333, 1, 2100), line(334, 1, 2100)];
        let t = totals(&lines, Some(Discount::Fixed(100)), 500).unwrap();
        assert_eq!(t.lines.iter().map(|l| l.discount).collect::<Vec<_>>(), [33, 33, 34]);
        assert_eq!((t.discount, t.shipping, t.total), (100, 500, 1000 - 100 + t.tax + 500));
        let capped =
            totals(&[line(10_000, 1, 0), line(30_000, 1, 0)], Some(Discount::Percentage { basis_points: 5000, cap: Some(1_001) }), 0)
                .unwrap();
        assert_eq!(capped.lines.iter().map(|l| l.discount).collect::<Vec<_>>(), [250, 751]);
        let tight = totals(&[line(3, 1, 0), line(3, 1, 0), line(3, 1, 0)], Some(Discount::Fixed(8)), 0).unwrap();
        assert_eq!(tight.lines.iter().map(|l| l.discount).collect::<Vec<_>>(), [3, 3, 2], "no line beyond its net");
        let too_much = totals(&[line(100, 1, 2100)], Some(Discount::Fixed(1_000)), 0).unwrap();
        assert_eq!((too_much.discount, too_much.tax, too_much.total), (100, 0, 0), "never below zero");
    }

    /// Many pseudo-random orders: never negative, lines add up to the totals, a fixed discount
    /// is allocated to the unit.
    #[test]
    fn totals_hold_for_many_orders() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as i64
        };
        for _ in 0..5_000 {
            let price_range = if next(2) == 0 { 10 } else { 1_000_000 };
            let lines: Vec<LineInput> = (0..1 + next(6)).map(|_| line(1 + next(price_range), 1 + next(20), next(2_701))).collect();
            let discount = match next(3) {
                0 => None,
                1 => Some(Discount::Percentage { basis_points: next(10_001), cap: (next(2) == 0).then(|| next(500_000)) }),
                _ => Some(Discount::Fixed(next(5_000_000))),
            };
            let shipping = next(100_000);
            let t = totals(&lines, discount, shipping).unwrap();
            assert!(t.total >= 0 && t.discount >= 0 && t.tax >= 0 && t.discount <= t.subtotal, "{t:?}");
            assert_eq!(t.subtotal, t.lines.iter().map(|l| l.net).sum::<i64>());
            assert_eq!(t.discount, t.lines.iter().map(|l| l.discount).sum::<i64>());
            assert_eq!(t.total, t.lines.iter().map(LineTotals::total).sum::<i64>() + shipping);
            assert!(t.lines.iter().all(|l| l.discount <= l.net));
            if let Some(Discount::Fixed(amount)) = discount {
                assert_eq!(t.discount, amount.min(t.subtotal), "a fixed discount is allocated exactly");
            }
        }
    }
}
