//! Random Cut Forest (Guha et al., "Robust Random Cut Forest Based Anomaly Detection on
//! Streams", ICML 2016), as RANDOM_CUT_FOREST[_WITH_EXPLANATION] uses it: each tree holds a
//! time-decayed reservoir sample of the stream's points (the newest favoured by `1 /
//! timeDecay` per point); a point's score is the forest's mean over trees of the expected
//! inverse depth at which the point would be cut off, times `log2(sample + 1)`, so typical
//! points score about 1 and a point cut off at the root `log2(sample + 1)`. Attribution splits
//! the score per dimension into the part above and below the points seen. Scores are 0 until
//! `subSampleSize` points were seen, as the reference says.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub trees: usize,
    pub sample: usize,
    pub time_decay: f64,
    pub shingle: usize,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            trees: 100,
            sample: 256,
            time_decay: 100_000.0,
            shingle: 1,
        }
    }
}

#[derive(Debug)]
struct Node {
    parent: Option<usize>,
    mass: usize,
    min: Vec<f64>,
    max: Vec<f64>,
    /// `None` for a leaf (its point is `min`).
    cut: Option<Cut>,
}

#[derive(Debug, Clone, Copy)]
struct Cut {
    dim: usize,
    value: f64,
    left: usize,
    right: usize,
}

#[derive(Debug)]
struct Tree {
    nodes: Vec<Node>,
    free: Vec<usize>,
    root: Option<usize>,
    rng: StdRng,
}

fn log2(x: f64) -> f64 {
    x.log2()
}

impl Tree {
    fn new(seed: u64) -> Tree {
        Tree {
            nodes: Vec::new(),
            free: Vec::new(),
            root: None,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn alloc(&mut self, node: Node) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.nodes[i] = node;
                i
            }
            None => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        }
    }

    fn leaf(point: &[f64], parent: Option<usize>) -> Node {
        Node {
            parent,
            mass: 1,
            min: point.to_vec(),
            max: point.to_vec(),
            cut: None,
        }
    }

    fn replace_child(&mut self, parent: Option<usize>, old: usize, new: usize) {
        match parent {
            None => self.root = Some(new),
            Some(p) => {
                if let Some(c) = self.nodes[p].cut.as_mut() {
                    if c.left == old {
                        c.left = new;
                    } else {
                        c.right = new;
                    }
                }
            }
        }
        self.nodes[new].parent = parent;
    }

    /// A cut of node `v`'s box grown to hold `p`, each dimension chosen by its length.
    fn random_cut(&mut self, v: usize, p: &[f64]) -> Option<(usize, f64)> {
        let total: f64 = {
            let node = &self.nodes[v];
            (0..p.len())
                .map(|d| node.max[d].max(p[d]) - node.min[d].min(p[d]))
                .sum()
        };
        if total <= 0.0 || !total.is_finite() {
            return None;
        }
        let mut r = self.rng.gen::<f64>() * total;
        let node = &self.nodes[v];
        let mut last = None;
        for (d, x) in p.iter().enumerate() {
            let (a, b) = (node.min[d].min(*x), node.max[d].max(*x));
            let len = b - a;
            if len <= 0.0 {
                continue;
            }
            last = Some((d, a));
            if r < len {
                // Strictly below the box's top, so both sides of the cut hold something.
                return Some((d, (a + r).min(b.next_down())));
            }
            r -= len;
        }
        last
    }

    fn insert(&mut self, p: &[f64]) {
        let Some(mut v) = self.root else {
            let leaf = Tree::leaf(p, None);
            self.root = Some(self.alloc(leaf));
            return;
        };
        loop {
            let node = &self.nodes[v];
            if node.cut.is_none() && node.min.as_slice() == p {
                self.nodes[v].mass += 1;
                return;
            }
            let cut = self.random_cut(v, p);
            let node = &self.nodes[v];
            if let Some((dim, value)) = cut {
                // Separated as routing sends points: left at or below the cut.
                let separates = (p[dim] <= value && node.min[dim] > value)
                    || (p[dim] > value && node.max[dim] <= value);
                if separates {
                    let parent = node.parent;
                    let mass = node.mass + 1;
                    let min = node.min.iter().zip(p).map(|(a, b)| a.min(*b)).collect();
                    let max = node.max.iter().zip(p).map(|(a, b)| a.max(*b)).collect();
                    let leaf = Tree::leaf(p, None);
                    let leaf = self.alloc(leaf);
                    let (left, right) = if p[dim] <= value {
                        (leaf, v)
                    } else {
                        (v, leaf)
                    };
                    let u = self.alloc(Node {
                        parent,
                        mass,
                        min,
                        max,
                        cut: Some(Cut {
                            dim,
                            value,
                            left,
                            right,
                        }),
                    });
                    self.replace_child(parent, v, u);
                    self.nodes[v].parent = Some(u);
                    self.nodes[leaf].parent = Some(u);
                    return;
                }
            }
            let Some(c) = self.nodes[v].cut else {
                // A leaf always separates from a different point; nothing else is left to do.
                return;
            };
            let node = &mut self.nodes[v];
            for (d, x) in p.iter().enumerate() {
                node.min[d] = node.min[d].min(*x);
                node.max[d] = node.max[d].max(*x);
            }
            node.mass += 1;
            v = if p[c.dim] <= c.value { c.left } else { c.right };
        }
    }

    fn delete(&mut self, p: &[f64]) {
        let Some(mut v) = self.root else {
            return;
        };
        while let Some(c) = self.nodes[v].cut {
            v = if p[c.dim] <= c.value { c.left } else { c.right };
        }
        if self.nodes[v].min.as_slice() != p {
            debug_assert!(false, "a sampled point is not in its tree");
            return;
        }
        let mut up = if self.nodes[v].mass > 1 {
            self.nodes[v].mass -= 1;
            self.nodes[v].parent
        } else {
            let Some(u) = self.nodes[v].parent else {
                self.root = None;
                self.free.push(v);
                return;
            };
            let Some(c) = self.nodes[u].cut else {
                return;
            };
            let sibling = if c.left == v { c.right } else { c.left };
            let grand = self.nodes[u].parent;
            self.replace_child(grand, u, sibling);
            self.free.extend([u, v]);
            grand
        };
        while let Some(a) = up {
            let Some(c) = self.nodes[a].cut else {
                break;
            };
            // The parent's box from its children's, in place.
            let mut min = std::mem::take(&mut self.nodes[a].min);
            let mut max = std::mem::take(&mut self.nodes[a].max);
            let (l, r) = (&self.nodes[c.left], &self.nodes[c.right]);
            for d in 0..min.len() {
                min[d] = l.min[d].min(r.min[d]);
                max[d] = l.max[d].max(r.max[d]);
            }
            let node = &mut self.nodes[a];
            node.min = min;
            node.max = max;
            node.mass -= 1;
            up = node.parent;
        }
    }

    /// The score of `q` and its attribution (`high`, `low` per dimension, summing to it).
    fn score(&self, q: &[f64]) -> Option<(f64, Vec<f64>, Vec<f64>)> {
        let root = self.root?;
        let n = self.nodes[root].mass as f64;
        let mut path = vec![root];
        let mut v = root;
        while let Some(c) = self.nodes[v].cut {
            v = if q[c.dim] <= c.value { c.left } else { c.right };
            path.push(v);
        }
        let dims = q.len();
        let scale = log2(n + 1.0);
        let leaf = &self.nodes[v];
        let k = (path.len() - 1) as f64;
        if leaf.min.as_slice() == q {
            let m = leaf.mass as f64;
            let s = (1.0 - m / (2.0 * n)) / (k + log2(m + 1.0)) * scale;
            let share = s / (2.0 * dims as f64);
            return Some((s, vec![share; dims], vec![share; dims]));
        }
        let mut s = 1.0 / (k + 1.0);
        let r: f64 = q.iter().zip(&leaf.min).map(|(a, b)| (a - b).abs()).sum();
        let mut high: Vec<f64> = q
            .iter()
            .zip(&leaf.min)
            .map(|(a, b)| s * (a - b).max(0.0) / r)
            .collect();
        let mut low: Vec<f64> = q
            .iter()
            .zip(&leaf.min)
            .map(|(a, b)| s * (b - a).max(0.0) / r)
            .collect();
        for (j, &u) in path.iter().enumerate().rev().skip(1) {
            let b = &self.nodes[u];
            let gap_hi = |i: usize| (q[i] - b.max[i]).max(0.0);
            let gap_lo = |i: usize| (b.min[i] - q[i]).max(0.0);
            let (mut gap, mut range) = (0.0, 0.0);
            for i in 0..dims {
                gap += gap_hi(i) + gap_lo(i);
                range += b.max[i] - b.min[i];
            }
            if gap <= 0.0 {
                break;
            }
            range += gap;
            let p = gap / range;
            let w = 1.0 / (j as f64 + 1.0);
            s = p * w + (1.0 - p) * s;
            for i in 0..dims {
                high[i] = gap_hi(i) / range * w + (1.0 - p) * high[i];
                low[i] = gap_lo(i) / range * w + (1.0 - p) * low[i];
            }
        }
        high.iter_mut()
            .chain(low.iter_mut())
            .for_each(|x| *x *= scale);
        Some((s * scale, high, low))
    }
}

/// A sampled point and its weight (the greatest weight leaves first).
#[derive(Debug)]
struct Sampled {
    weight: f64,
    point: Vec<f64>,
}

impl PartialEq for Sampled {
    fn eq(&self, other: &Self) -> bool {
        self.weight.total_cmp(&other.weight) == Ordering::Equal
    }
}
impl Eq for Sampled {}
impl PartialOrd for Sampled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Sampled {
    fn cmp(&self, other: &Self) -> Ordering {
        self.weight.total_cmp(&other.weight)
    }
}

/// A forest over a stream of rows of `columns` numbers.
#[derive(Debug)]
pub struct Forest {
    params: Params,
    trees: Vec<(Tree, BinaryHeap<Sampled>)>,
    rng: StdRng,
    /// Points offered to the trees so far.
    seen: u64,
    /// The last `shingle` rows.
    recent: std::collections::VecDeque<Vec<f64>>,
}

/// A row's score and, per column, the parts of it above and below the points seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub score: f64,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
}

impl Forest {
    pub fn new(params: Params, seed: u64) -> Forest {
        let mut rng = StdRng::seed_from_u64(seed);
        let trees = (0..params.trees)
            .map(|_| (Tree::new(rng.gen()), BinaryHeap::new()))
            .collect();
        Forest {
            params,
            trees,
            rng,
            seen: 0,
            recent: Default::default(),
        }
    }

    /// Scores a row, then learns it.
    pub fn update(&mut self, row: &[f64]) -> Scored {
        let columns = row.len();
        self.recent.push_back(row.to_vec());
        if self.recent.len() > self.params.shingle {
            self.recent.pop_front();
        }
        let zero = Scored {
            score: 0.0,
            high: vec![0.0; columns],
            low: vec![0.0; columns],
        };
        if self.recent.len() < self.params.shingle {
            return zero;
        }
        let point: Vec<f64> = self.recent.iter().flatten().copied().collect();
        let out = if self.seen >= self.params.sample as u64 {
            let (mut score, mut high, mut low) = (0.0, vec![0.0; columns], vec![0.0; columns]);
            for (tree, _) in &self.trees {
                if let Some((s, h, l)) = tree.score(&point) {
                    score += s;
                    // Shingled dimensions add up per column.
                    for (i, (h, l)) in h.iter().zip(&l).enumerate() {
                        high[i % columns] += h;
                        low[i % columns] += l;
                    }
                }
            }
            let n = self.trees.len() as f64;
            high.iter_mut().chain(low.iter_mut()).for_each(|x| *x /= n);
            Scored {
                score: score / n,
                high,
                low,
            }
        } else {
            zero
        };
        self.learn(point);
        out
    }

    fn learn(&mut self, point: Vec<f64>) {
        self.seen += 1;
        let lambda = 1.0 / self.params.time_decay;
        let age = self.seen as f64;
        for (tree, sample) in &mut self.trees {
            let u: f64 = loop {
                let u = self.rng.gen::<f64>();
                if u > 0.0 {
                    break u;
                }
            };
            let weight = -lambda * age + (-u.ln()).ln();
            if sample.len() >= self.params.sample {
                match sample.peek() {
                    Some(top) if weight < top.weight => {
                        if let Some(out) = sample.pop() {
                            tree.delete(&out.point);
                        }
                    }
                    _ => continue,
                }
            }
            tree.insert(&point);
            sample.push(Sampled {
                weight,
                point: point.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outliers_score_high_after_the_warm_up() {
        let params = Params {
            trees: 50,
            sample: 64,
            ..Params::default()
        };
        let mut f = Forest::new(params, 7);
        let mut rng = StdRng::seed_from_u64(1);
        let mut normal = Vec::new();
        for i in 0..2000 {
            let row = [
                60.0 + rng.gen::<f64>() * 40.0,
                70.0 + rng.gen::<f64>() * 10.0,
            ];
            let s = f.update(&row);
            if i < 64 {
                assert_eq!(s.score, 0.0);
            } else if i > 500 {
                normal.push(s.score);
                let parts: f64 = s.high.iter().chain(&s.low).sum();
                assert!((parts - s.score).abs() < 1e-9, "{parts} vs {}", s.score);
            }
        }
        let mean = normal.iter().sum::<f64>() / normal.len() as f64;
        let outlier = f.update(&[190.0, 75.0]);
        assert!(
            outlier.score > 2.0 * mean,
            "{} vs mean {mean}",
            outlier.score
        );
        // The first column is the one far above what was seen.
        assert!(
            outlier.high[0] > outlier.low[0] && outlier.high[0] > outlier.high[1] + outlier.low[1]
        );
        // The trees hold at most the sample.
        for (t, s) in &f.trees {
            assert_eq!(s.len(), 64);
            assert_eq!(t.nodes[t.root.unwrap()].mass, 64);
        }
    }

    #[test]
    fn shingles_and_duplicates() {
        let params = Params {
            trees: 10,
            sample: 16,
            shingle: 2,
            ..Params::default()
        };
        let mut f = Forest::new(params, 3);
        for _ in 0..100 {
            let s = f.update(&[1.0]);
            assert!(s.score.is_finite() && s.score >= 0.0);
        }
        assert!(f.update(&[1.0]).score < 1.0);
        assert!(f.update(&[50.0]).score > 1.0);
    }
}
