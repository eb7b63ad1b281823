//! HOTSPOTS: dense regions among the last `windowSize` rows. AWS documents the parameters
//! (`scanRadius` is "analogous to the epsilon value in the DBSCAN algorithm") and the result,
//! not the algorithm, so Weir runs DBSCAN over the window (Euclidean distance over the
//! numeric columns; a core row has at least `minimumNumberOfPointsInAHotspot` rows within
//! the radius, itself included) and reports each cluster of at least that many rows: its
//! per-column bounds and its density, rows per unit of its bounding box's volume (a side of
//! zero length counts as the radius). The JSON is the one AWS's examples read:
//! `{"hotspots":[{"density":..,"minValues":[..],"maxValues":[..]},..]}`, densest first.

use std::collections::HashMap;

/// Dimensions up to which neighbours are found through a grid (3^d cells per look-up).
const GRID_DIMS: usize = 4;

fn neighbours(points: &[Vec<f64>], eps: f64) -> Vec<Vec<usize>> {
    let near = |a: &[f64], b: &[f64]| {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() <= eps * eps
    };
    let dims = points.first().map_or(0, Vec::len);
    if dims > GRID_DIMS {
        return points
            .iter()
            .map(|p| (0..points.len()).filter(|&j| near(p, &points[j])).collect())
            .collect();
    }
    let cell = |p: &[f64]| -> Vec<i64> { p.iter().map(|x| (x / eps).floor() as i64).collect() };
    let mut grid: HashMap<Vec<i64>, Vec<usize>> = HashMap::new();
    for (i, p) in points.iter().enumerate() {
        grid.entry(cell(p)).or_default().push(i);
    }
    let offsets: Vec<Vec<i64>> = (0..3usize.pow(dims as u32))
        .map(|mut k| {
            (0..dims)
                .map(|_| {
                    let o = (k % 3) as i64 - 1;
                    k /= 3;
                    o
                })
                .collect()
        })
        .collect();
    points
        .iter()
        .map(|p| {
            let home = cell(p);
            let mut out = Vec::new();
            for o in &offsets {
                let c: Vec<i64> = home
                    .iter()
                    .zip(o)
                    .map(|(a, b)| a.saturating_add(*b))
                    .collect();
                if let Some(members) = grid.get(&c) {
                    out.extend(members.iter().copied().filter(|&j| near(p, &points[j])));
                }
            }
            out
        })
        .collect()
}

/// DBSCAN's clusters (indices of their rows).
fn clusters(points: &[Vec<f64>], eps: f64, min_points: usize) -> Vec<Vec<usize>> {
    let near = neighbours(points, eps);
    let core: Vec<bool> = near.iter().map(|n| n.len() >= min_points).collect();
    let mut label: Vec<Option<usize>> = vec![None; points.len()];
    let mut out: Vec<Vec<usize>> = Vec::new();
    for start in 0..points.len() {
        if !core[start] || label[start].is_some() {
            continue;
        }
        let id = out.len();
        let mut members = Vec::new();
        let mut stack = vec![start];
        label[start] = Some(id);
        while let Some(i) = stack.pop() {
            members.push(i);
            if !core[i] {
                continue;
            }
            for &j in &near[i] {
                if label[j].is_none() {
                    label[j] = Some(id);
                    stack.push(j);
                }
            }
        }
        out.push(members);
    }
    out
}

/// The hotspots of the window's rows, as HOTSPOTS_RESULT's JSON.
pub fn hotspots_json(points: &[Vec<f64>], eps: f64, min_points: usize) -> String {
    let mut spots: Vec<(f64, Vec<f64>, Vec<f64>)> = clusters(points, eps, min_points)
        .into_iter()
        .filter(|c| c.len() >= min_points)
        .map(|c| {
            let dims = points[c[0]].len();
            let mut min = vec![f64::INFINITY; dims];
            let mut max = vec![f64::NEG_INFINITY; dims];
            for &i in &c {
                for (d, x) in points[i].iter().enumerate() {
                    min[d] = min[d].min(*x);
                    max[d] = max[d].max(*x);
                }
            }
            let volume: f64 = min
                .iter()
                .zip(&max)
                .map(|(a, b)| if b > a { b - a } else { eps })
                .product();
            (c.len() as f64 / volume, min, max)
        })
        .collect();
    spots.sort_by(|a, b| b.0.total_cmp(&a.0));
    let number = |x: f64| serde_json::Value::from(x).to_string();
    let list = |v: &[f64]| v.iter().map(|x| number(*x)).collect::<Vec<_>>().join(",");
    let spots: Vec<String> = spots
        .iter()
        .map(|(density, min, max)| {
            format!(
                "{{\"density\":{},\"minValues\":[{}],\"maxValues\":[{}]}}",
                number(*density),
                list(min),
                list(max)
            )
        })
        .collect();
    format!("{{\"hotspots\":[{}]}}", spots.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dense_square_is_the_hotspot() {
        // A 10 x 10 grid of background rows 1 apart, and 30 rows in a 0.5 square at (3, 3).
        let mut points: Vec<Vec<f64>> = (0..100)
            .map(|i| vec![f64::from(i % 10), f64::from(i / 10)])
            .collect();
        for k in 0..30 {
            let f = f64::from(k) / 30.0;
            points.push(vec![3.2 + 0.5 * f, 3.2 + 0.5 * ((f * 7.0) % 1.0)]);
        }
        let json: serde_json::Value =
            serde_json::from_str(&hotspots_json(&points, 0.2, 10)).unwrap();
        let spots = json["hotspots"].as_array().unwrap();
        assert_eq!(spots.len(), 1, "{json}");
        let min = spots[0]["minValues"].as_array().unwrap();
        let max = spots[0]["maxValues"].as_array().unwrap();
        assert!(
            min[0].as_f64().unwrap() >= 3.2 && max[0].as_f64().unwrap() <= 3.7,
            "{json}"
        );
        assert!(spots[0]["density"].as_f64().unwrap() > 40.0, "{json}");
        // Too few rows make no hotspot.
        let json = hotspots_json(&points[..100], 0.2, 10);
        assert_eq!(json, r#"{"hotspots":[]}"#);
    }
}
