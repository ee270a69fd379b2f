//! Platt scaling: P(positive) = σ(a·z + b) for a raw score z, fitted on a held-out period with
//! Platt's smoothed targets (so an all-positive or all-negative bin never yields ±∞).

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Platt {
    pub fn apply(&self, z: f64) -> f64 {
        sigmoid(self.a * z + self.b)
    }

    /// Newton's method on the two parameters (deterministic; a tiny ridge keeps it stable).
    pub fn fit(z: &[f64], y: &[bool]) -> Platt {
        let pos = y.iter().filter(|&&v| v).count() as f64;
        let neg = y.len() as f64 - pos;
        let (t_pos, t_neg) = ((pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0));
        let (mut a, mut b) = (1.0, 0.0);
        for _ in 0..100 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
            for (&zi, &yi) in z.iter().zip(y) {
                let p = sigmoid(a * zi + b);
                let t = if yi { t_pos } else { t_neg };
                let d = p - t;
                let w = p * (1.0 - p);
                ga += d * zi;
                gb += d;
                haa += w * zi * zi;
                hab += w * zi;
                hbb += w;
            }
            let det = haa * hbb - hab * hab;
            if det.abs() < 1e-300 {
                break;
            }
            let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
            a -= da;
            b -= db;
            if da.abs() < 1e-12 && db.abs() < 1e-12 {
                break;
            }
        }
        Platt { a, b }
    }
}
