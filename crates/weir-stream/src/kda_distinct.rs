//! The count behind KDA's `COUNT_DISTINCT_ITEMS_TUMBLING`: exact while a window holds at most
//! 10,000 items, HyperLogLog past that (the SQL reference: "when there are less than or equal
//! to 10,000 items in the window, the function returns an exact count"; beyond, approximate).
//! An aggregate (`weir_kda_distinct_items(x)`) whose partial states merge, so the engine's
//! window panes and checkpoints carry it like any other: the state is the number of items,
//! the items' 64-bit hashes while exact, and the sketch's registers after.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, UInt64Type};
use datafusion::common::{exec_err, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};

/// The function's name in SQL (written by the KDA translator).
pub const NAME: &str = "weir_kda_distinct_items";
/// Items up to which the count is exact.
const EXACT_UP_TO: u64 = 10_000;
/// log2 of the sketch's registers (16,384 registers: a standard error near 0.8 %).
const P: u32 = 14;
const REGISTERS: usize = 1 << P;

/// The aggregate, to register in a session.
pub fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(DistinctItems {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DistinctItems {
    signature: Signature,
}

impl AggregateUDFImpl for DistinctItems {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<Distinct>::default())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new(
                format!("{}_items", args.name),
                DataType::UInt64,
                true,
            )),
            Arc::new(Field::new(
                format!("{}_hashes", args.name),
                DataType::List(Arc::new(Field::new_list_field(DataType::UInt64, true))),
                true,
            )),
            Arc::new(Field::new(
                format!("{}_registers", args.name),
                DataType::Binary,
                true,
            )),
        ])
    }
}

/// One group's count: exact (`hashes`) until `items` passes [`EXACT_UP_TO`], then a sketch.
#[derive(Debug, Default)]
struct Distinct {
    items: u64,
    hashes: HashSet<u64>,
    registers: Option<Vec<u8>>,
}

/// FNV-1a over the bytes, then a 64-bit finalizer (murmur3's) so every bit depends on every
/// byte: stable across processes and builds, as checkpointed states need.
fn hash(bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn offer(registers: &mut [u8], h: u64) {
    let index = (h >> (64 - P)) as usize;
    let rank = ((h << P) | (1 << (P - 1))).leading_zeros() as u8 + 1;
    if let Some(r) = registers.get_mut(index) {
        *r = (*r).max(rank);
    }
}

/// The sketch's estimate (HyperLogLog with linear counting for small counts).
fn estimate(registers: &[u8]) -> u64 {
    let m = registers.len() as f64;
    let sum: f64 = registers.iter().map(|r| 2f64.powi(-i32::from(*r))).sum();
    let e = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
    let zeros = registers.iter().filter(|r| **r == 0).count();
    if e <= 2.5 * m && zeros > 0 {
        (m * (m / zeros as f64).ln()).round() as u64
    } else {
        e.round() as u64
    }
}

impl Distinct {
    fn add(&mut self, h: u64) {
        match &mut self.registers {
            Some(r) => offer(r, h),
            None => {
                self.hashes.insert(h);
            }
        }
    }

    /// Past the exact range: the hashes go into a sketch.
    fn settle(&mut self) {
        if self.items > EXACT_UP_TO && self.registers.is_none() {
            let mut r = vec![0u8; REGISTERS];
            for h in self.hashes.drain() {
                offer(&mut r, h);
            }
            self.hashes.shrink_to_fit();
            self.registers = Some(r);
        }
    }
}

impl Accumulator for Distinct {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(v) = values.first() else {
            return Ok(());
        };
        let text = cast(v, &DataType::Utf8)?;
        let text: &StringArray = text.as_string();
        for s in text.iter().flatten() {
            self.items += 1;
            self.add(hash(s.as_bytes()));
            if self.items == EXACT_UP_TO + 1 {
                self.settle();
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let n = match &self.registers {
            Some(r) => estimate(r),
            None => self.hashes.len() as u64,
        };
        Ok(ScalarValue::Int64(Some(n as i64)))
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.hashes.capacity() * 9
            + self.registers.as_ref().map_or(0, Vec::len)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let hashes = match &self.registers {
            Some(_) => Vec::new(),
            None => self.hashes.iter().map(|h| Some(*h)).collect(),
        };
        let list = ListArray::from_iter_primitive::<UInt64Type, _, _>([Some(hashes)]);
        Ok(vec![
            ScalarValue::UInt64(Some(self.items)),
            ScalarValue::List(Arc::new(list)),
            ScalarValue::Binary(self.registers.clone()),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let parts = match states {
            [items, hashes, registers] => (
                items.as_primitive_opt::<UInt64Type>(),
                hashes.as_list_opt::<i32>(),
                registers.as_binary_opt::<i32>(),
            ),
            _ => (None, None, None),
        };
        let (Some(items), Some(hashes), Some(registers)) = parts else {
            return exec_err!("{NAME}: a state that is not (items, hashes, registers)");
        };
        for i in 0..items.len() {
            if items.is_null(i) {
                continue;
            }
            self.items += items.value(i);
            if !registers.is_null(i) {
                self.items = self.items.max(EXACT_UP_TO + 1);
                self.settle();
                if let Some(mine) = &mut self.registers {
                    for (m, o) in mine.iter_mut().zip(registers.value(i)) {
                        *m = (*m).max(*o);
                    }
                }
            }
            self.settle();
            if !hashes.is_null(i) {
                let list = hashes.value(i);
                let Some(list) = list.as_primitive_opt::<UInt64Type>() else {
                    return exec_err!("{NAME}: a state's hashes are not UInt64");
                };
                for h in list.iter().flatten() {
                    self.add(h);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;

    fn run(acc: &mut Distinct, values: impl IntoIterator<Item = i64>) {
        let a: ArrayRef = Arc::new(Int64Array::from_iter_values(values));
        acc.update_batch(&[a]).unwrap();
    }

    fn count(acc: &mut Distinct) -> i64 {
        match acc.evaluate().unwrap() {
            ScalarValue::Int64(Some(n)) => n,
            other => panic!("{other:?}"),
        }
    }

    /// A state, as the engine carries it between panes.
    fn states(acc: &mut Distinct) -> Vec<ArrayRef> {
        acc.state()
            .unwrap()
            .iter()
            .map(|s| s.to_array().unwrap())
            .collect()
    }

    #[test]
    fn exact_up_to_ten_thousand_items() {
        let mut acc = Distinct::default();
        run(&mut acc, (0..10_000).map(|i| i % 7_777));
        assert_eq!(count(&mut acc), 7_777);
        assert!(acc.registers.is_none());
    }

    #[test]
    fn approximate_past_ten_thousand_items() {
        let mut acc = Distinct::default();
        run(&mut acc, 0..100_000);
        let n = count(&mut acc);
        assert!((97_000..=103_000).contains(&n), "{n}");
        let mut small = Distinct::default();
        run(&mut small, (0..20_000).map(|i| i % 50));
        let n = count(&mut small);
        assert!((45..=55).contains(&n), "{n}");
    }

    #[test]
    fn states_merge_exactly_then_into_a_sketch() {
        let (mut a, mut b) = (Distinct::default(), Distinct::default());
        run(&mut a, 0..4_000);
        run(&mut b, 2_000..6_000);
        let mut m = Distinct::default();
        m.merge_batch(&states(&mut a)).unwrap();
        m.merge_batch(&states(&mut b)).unwrap();
        assert_eq!(count(&mut m), 6_000);
        let mut c = Distinct::default();
        run(&mut c, 6_000..60_000);
        assert!(c.registers.is_some());
        m.merge_batch(&states(&mut c)).unwrap();
        let n = count(&mut m);
        assert!((58_000..=62_000).contains(&n), "{n}");
        // Merging into an empty one gives the same.
        let mut again = Distinct::default();
        again.merge_batch(&states(&mut m)).unwrap();
        assert_eq!(count(&mut again), n);
    }
}
