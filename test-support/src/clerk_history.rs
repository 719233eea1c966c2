//! Bodies of the user, organization and membership events the sync keeps, as Clerk shapes them,
//! and a seeded history of them for many objects.

use serde_json::{json, Value};

/// A webhook body: `{"type", "object":"event", "timestamp", "data"}`.
pub fn envelope(event_type: &str, timestamp: i64, data: Value) -> String {
    json!({
        "type": event_type,
        "object": "event",
        "timestamp": timestamp,
        "instance_id": "ins_test",
        "data": data,
    })
    .to_string()
}

/// A user as `user.created`/`user.updated` carry it, at version `updated_at`.
pub fn user(id: &str, revision: u32, created_at: i64, updated_at: i64) -> Value {
    json!({
        "id": id,
        "object": "user",
        "first_name": format!("First{revision}"),
        "last_name": format!("Last {id}"),
        "username": format!("{id}_r{revision}"),
        "image_url": format!("https://img.clerk.com/{id}/{revision}"),
        "primary_email_address_id": format!("idn_{id}"),
        "email_addresses": [{
            "id": format!("idn_{id}"),
            "object": "email_address",
            "email_address": format!("{id}.r{revision}@example.com"),
            "verification": {"status": "verified", "strategy": "email_code"},
            "linked_to": [],
        }],
        "public_metadata": {"revision": revision},
        "private_metadata": {},
        "unsafe_metadata": {},
        "created_at": created_at,
        "updated_at": updated_at,
    })
}

pub fn organization(id: &str, revision: u32, created_at: i64, updated_at: i64) -> Value {
    json!({
        "id": id,
        "object": "organization",
        "name": format!("Org {id} r{revision}"),
        "slug": format!("{id}-r{revision}"),
        "image_url": format!("https://img.clerk.com/{id}/{revision}"),
        "public_metadata": {"revision": revision},
        "private_metadata": {},
        "created_at": created_at,
        "updated_at": updated_at,
    })
}

pub fn membership(
    id: &str,
    org: &str,
    user: &str,
    revision: u32,
    created_at: i64,
    updated_at: i64,
) -> Value {
    json!({
        "id": id,
        "object": "organization_membership",
        "role": if revision.is_multiple_of(2) { "org:member" } else { "org:admin" },
        "permissions": [],
        "public_metadata": {"revision": revision},
        "private_metadata": {},
        "organization": organization(org, 0, created_at, created_at),
        "public_user_data": {"user_id": user, "identifier": format!("{user}@example.com")},
        "created_at": created_at,
        "updated_at": updated_at,
    })
}

/// What `*.deleted` carries for users and organizations.
pub fn deleted(id: &str, object: &str) -> Value {
    json!({"id": id, "object": object, "deleted": true})
}

/// A small seeded generator (splitmix64): the same seed, the same history and orderings.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

/// One event of a history: its svix-id and body.
#[derive(Debug, Clone)]
pub struct HistoryEvent {
    pub svix_id: String,
    pub body: String,
}

/// A history of `users` users and `organizations` organizations with memberships: each object
/// created, updated several times, some deleted, in the order Clerk would have sent it (every
/// event later than the one before it).
pub fn history(seed: u64, users: usize, organizations: usize) -> Vec<HistoryEvent> {
    let mut rng = Rng::new(seed);
    // Each object's own sequence of events, merged below in time order.
    let mut clock: i64 = 1_716_883_200_000;
    let mut tick = |rng: &mut Rng| {
        clock += 1 + rng.below(50) as i64;
        clock
    };
    let mut timeline: Vec<(i64, String, Value)> = Vec::new();
    let user_ids: Vec<String> = (0..users).map(|i| format!("user_{i:04}")).collect();
    for id in &user_ids {
        let created = tick(&mut rng);
        timeline.push((
            created,
            "user.created".into(),
            user(id, 0, created, created),
        ));
        let mut at = created;
        for revision in 1..=(1 + rng.below(4) as u32) {
            at += 1 + rng.below(5_000) as i64;
            timeline.push((at, "user.updated".into(), user(id, revision, created, at)));
        }
        if rng.chance(15) {
            at += 1 + rng.below(5_000) as i64;
            timeline.push((at, "user.deleted".into(), deleted(id, "user")));
        }
    }
    for o in 0..organizations {
        let org = format!("org_{o:03}");
        let created = tick(&mut rng);
        timeline.push((
            created,
            "organization.created".into(),
            organization(&org, 0, created, created),
        ));
        let mut at = created;
        for revision in 1..=(1 + rng.below(3) as u32) {
            at += 1 + rng.below(5_000) as i64;
            timeline.push((
                at,
                "organization.updated".into(),
                organization(&org, revision, created, at),
            ));
        }
        for m in 0..10 {
            let id = format!("orgmem_{o:03}_{m}");
            let member = &user_ids[rng.below(users as u64) as usize];
            let created = at + 1 + rng.below(5_000) as i64;
            timeline.push((
                created,
                "organizationMembership.created".into(),
                membership(&id, &org, member, 0, created, created),
            ));
            let mut at_m = created;
            for revision in 1..=(rng.below(3) as u32) {
                at_m += 1 + rng.below(5_000) as i64;
                timeline.push((
                    at_m,
                    "organizationMembership.updated".into(),
                    membership(&id, &org, member, revision, created, at_m),
                ));
            }
            if rng.chance(20) {
                at_m += 1 + rng.below(5_000) as i64;
                timeline.push((
                    at_m,
                    "organizationMembership.deleted".into(),
                    membership(&id, &org, member, 9, created, at_m),
                ));
            }
        }
        if rng.chance(10) {
            at += 60_000 + rng.below(5_000) as i64;
            timeline.push((
                at,
                "organization.deleted".into(),
                deleted(&org, "organization"),
            ));
        }
    }
    timeline.sort_by_key(|(at, _, _)| *at);
    timeline
        .into_iter()
        .enumerate()
        .map(|(n, (at, event_type, data))| HistoryEvent {
            svix_id: format!("msg_{n:05}"),
            body: envelope(&event_type, at, data),
        })
        .collect()
}
