//! Related parties of one chunk (关联关系): people who run or own several subjects, branches and
//! their head offices, corporate shareholders, shared addresses — formed among subjects of
//! similar hidden risk (a noisy view of it), so related firms share latent risk as clusters do
//! in practice — and a few registered agents linked to dozens of unrelated subjects, which the
//! policy's `relation_person_cap` leaves out. Drawn from a stream of its own after the chunk's
//! subjects, so every other table is the same with or without it.

use crate::rng::{splitmix, Rng};

use super::dirt::{Dirt, Kind};
use super::tables::Relations;
use super::GenerateOptions;

/// What the relations need to know of one subject.
pub struct Member {
    pub uscc: String,
    pub subject_type: &'static str,
    pub base_logit: f64,
    pub established: i32,
    pub terminated: Option<i32>,
}

struct Link<'a> {
    member: &'a Member,
    related: String,
    relation: &'static str,
    from: i32,
}

/// An id for a person or an address, as an upstream system would hash it: never a name.
fn node_id(prefix: char, seed: u64, chunk: u64, k: u64) -> String {
    format!("{prefix}{:016x}", splitmix(seed ^ splitmix(chunk.wrapping_mul(0x9E37_79B9) ^ (k << 1))))
}

pub fn simulate(opts: &GenerateOptions, chunk: u64, rng: &mut Rng, dirt: &mut Dirt, out: &mut Relations, members: &[Member]) {
    if members.is_empty() {
        return;
    }
    // Neighbours in this order have similar risk.
    let view: Vec<f64> = members.iter().map(|m| m.base_logit + 0.35 * rng.normal()).collect();
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by(|&a, &b| view[a].total_cmp(&view[b]).then(a.cmp(&b)));
    let mut links: Vec<Link> = Vec::new();
    let mut nodes = 0u64;
    let mut next_node = |prefix: char| {
        nodes += 1;
        node_id(prefix, opts.seed, chunk, nodes)
    };
    let mut i = 0;
    while i < order.len() {
        if rng.chance(0.25) {
            // One person runs or owns the next few subjects.
            let size = rng.int(2, 4) as usize;
            let person = next_node('P');
            let relation = if rng.chance(0.6) { "legal_representative" } else { "shareholder" };
            for &m in order.iter().skip(i).take(size) {
                let member = &members[m];
                links.push(Link { member, related: person.clone(), relation, from: member.established + rng.int(0, 30) as i32 });
            }
            i += size;
        } else {
            // A person of its own: the legal representative (an operator, for 个体工商户).
            let member = &members[order[i]];
            links.push(Link { member, related: next_node('P'), relation: "legal_representative", from: member.established });
            i += 1;
        }
    }
    // Natural-person shareholders of companies, most of them in no other subject.
    for member in members.iter().filter(|m| m.subject_type == "enterprise") {
        for _ in 0..rng.int(1, 2) {
            links.push(Link { member, related: next_node('P'), relation: "shareholder", from: member.established });
        }
    }
    let position: Vec<usize> = {
        let mut p = vec![0; members.len()];
        for (k, &m) in order.iter().enumerate() {
            p[m] = k;
        }
        p
    };
    let nearest_enterprise = |m: usize, rng: &mut Rng| -> Option<usize> {
        let k = position[m] as i64 + rng.int(-20, 20);
        let k = k.clamp(0, order.len() as i64 - 1) as usize;
        (k..order.len()).chain(0..k).map(|j| order[j]).find(|&o| o != m && members[o].subject_type == "enterprise")
    };
    for (m, member) in members.iter().enumerate() {
        match member.subject_type {
            "branch" => {
                if let Some(head) = nearest_enterprise(m, rng) {
                    links.push(Link { member, related: members[head].uscc.clone(), relation: "branch_of", from: member.established });
                }
            }
            "enterprise" if rng.chance(0.03) => {
                if let Some(owner) = nearest_enterprise(m, rng) {
                    let from = member.established.max(members[owner].established) + rng.int(0, 365) as i32;
                    links.push(Link { member, related: members[owner].uscc.clone(), relation: "shareholder", from });
                }
            }
            "individual" if rng.chance(0.04) => {
                // A stall in a market building, beside one or two more of the same kind.
                let address = next_node('A');
                let from = member.established;
                links.push(Link { member, related: address.clone(), relation: "same_address", from });
                for step in 1..=rng.int(1, 2) as usize {
                    let o = order[(position[m] + step).min(order.len() - 1)];
                    if o != m {
                        links.push(Link { member: &members[o], related: address.clone(), relation: "same_address", from: members[o].established });
                    }
                }
            }
            _ => {}
        }
    }
    // Registered agents: one id on dozens of unrelated subjects.
    for _ in 0..(members.len() / 2000).max(1) {
        let agent = next_node('P');
        for _ in 0..rng.int(25, 60) {
            let member = &members[rng.int(0, members.len() as i64 - 1) as usize];
            links.push(Link { member, related: agent.clone(), relation: "shareholder", from: member.established + rng.int(0, 400) as i32 });
        }
    }
    for link in links {
        let end_of_life = link.member.terminated.unwrap_or(opts.end);
        if link.from > opts.end {
            continue;
        }
        // Some links end: a representative replaced, a share sold, a shop moved.
        let to = rng.chance(0.12).then(|| link.from + 1 + rng.int(0, (end_of_life - link.from).max(1) as i64) as i32).filter(|d| *d <= opts.end);
        let recorded = link.from + rng.exponential(15.0) as i32;
        if recorded > opts.end {
            continue;
        }
        let k = dirt.draw("relations", Kind::EVENT_KINDS_NO_ENUM);
        out.uscc.append_value(dirt.uscc(k, &link.member.uscc, opts));
        out.related.append_value(&link.related);
        out.relation.append_value(link.relation);
        out.valid_from.append_value(dirt.date(k, link.from, opts));
        out.valid_to.append_option(to);
        out.recorded_on.append_value(recorded);
    }
}
