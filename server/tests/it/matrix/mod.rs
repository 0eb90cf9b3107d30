//! The authorization matrix: role × visibility × surface, for the four kinds of private things
//! (audio, compositions, campaigns, background jobs). One rule holds everywhere: what the asker may not see is
//! indistinguishable from what does not exist. Every row is one request on one surface (REST,
//! the audio bytes, a server function, a server-rendered page) as one person, with the status
//! it must answer and whether the thing's secret (a title, a file name) may appear in the answer.
//! Every refused row is also sent again with a missing id in place of the thing's, and must be
//! answered the same way. All rows run; a failure prints every failing row whole.
use std::collections::BTreeMap;
use std::fmt;

use crate::clients::{Call, Person, Surface};
use crate::helpers::TestApp;

mod audio;
mod campaigns;
mod compositions;
mod jobs;

/// An id that names nothing.
const MISSING: &str = "00000000-0000-4000-8000-000000000000";

/// A private thing under test: its label in messages, its id, and a text only those who may see
/// it can read.
struct Thing {
    label: String,
    id: String,
    secret: String,
}

struct Row<'a> {
    thing: &'a Thing,
    who: &'a Person,
    call: Call,
    /// The id in `call` that a missing one replaces (the thing's, or a part of it such as a track).
    id: String,
    want: u16,
    /// Whether the secret appears in a successful answer (`None`: this answer does not carry
    /// it). A refused answer never carries it.
    shows: Option<bool>,
    /// Whether the asker may see the thing at all; if not, a missing id must answer the same.
    seen: bool,
}

impl fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = match self.shows {
            Some(true) => "shows",
            Some(false) => "hides",
            None => "-",
        };
        write!(
            f,
            "[{}] as {} ({}) on {}: {:?} => want {}, secret {:?} {secret}",
            self.thing.label,
            self.who.name,
            if self.seen { "may see it" } else { "may not see it" },
            self.call.surface(),
            self.call,
            self.want,
            self.thing.secret
        )
    }
}

#[derive(Default)]
struct Table<'a> {
    rows: Vec<Row<'a>>,
    seen: bool,
}

impl<'a> Table<'a> {
    fn add(&mut self, thing: &'a Thing, who: &'a Person, call: Call, want: u16, shows: Option<bool>) {
        self.add_by(&thing.id, thing, who, call, want, shows);
    }

    /// Whether the asker of the rows added next may see their thing.
    fn seen(&mut self, seen: bool) {
        self.seen = seen;
    }

    fn add_by(&mut self, id: &str, thing: &'a Thing, who: &'a Person, call: Call, want: u16, shows: Option<bool>) {
        self.rows.push(Row { thing, who, call, id: id.to_string(), want, shows, seen: self.seen });
    }

    /// Send every row in order; fail with all failing rows.
    async fn check(self, app: &TestApp, name: &str) {
        let started = std::time::Instant::now();
        let mut failures = Vec::new();
        let (mut per_surface, mut twins) = (BTreeMap::<Surface, usize>::new(), 0);
        for row in &self.rows {
            *per_surface.entry(row.call.surface()).or_default() += 1;
            let got = row.call.send(app, &row.who.browser).await;
            let mut wrong = Vec::new();
            if got.status.as_u16() != row.want {
                wrong.push(format!("answered {}", got.status));
            }
            let secret = row.thing.secret.as_str();
            let in_headers = got
                .headers
                .get("content-disposition")
                .is_some_and(|v| String::from_utf8_lossy(v.as_bytes()).contains(secret));
            let shown = in_headers || (row.call.surface() != Surface::Bytes && got.body.contains(secret));
            // Bytes carry no secret to look for, only a file name in their headers.
            let must_show = match (row.want, row.call.surface()) {
                (200..300, Surface::Bytes) => row.shows.filter(|s| !s),
                (200..300, _) => row.shows,
                _ => Some(false),
            };
            match must_show {
                Some(true) if !shown => wrong.push("the secret is missing".into()),
                Some(false) if shown => wrong.push("LEAK: the secret is in the answer".into()),
                _ => {}
            }
            // Refused what they may not see: a missing id is answered the same way.
            if !row.seen && !(200..300).contains(&row.want) {
                let twin = row.call.replace(&row.id, MISSING);
                if format!("{twin:?}") != format!("{:?}", row.call) {
                    twins += 1;
                    let missing = twin.send(app, &row.who.browser).await;
                    if missing.status != got.status {
                        wrong.push(format!("a missing id answers {} instead", missing.status));
                    } else if row.call.surface() != Surface::Page && missing.body != got.body.replace(&row.id, MISSING)
                    {
                        wrong.push(format!("a missing id answers otherwise: {}", missing.excerpt()));
                    }
                }
            }
            if !wrong.is_empty() {
                let body = match row.call.surface() {
                    Surface::Bytes if got.status.is_success() => format!("{} bytes", got.body.len()),
                    _ => got.excerpt(),
                };
                failures.push(format!("{row:?}\n    {}; body: {body}", wrong.join("; ")));
            }
        }
        let counts: Vec<String> = per_surface.iter().map(|(s, n)| format!("{s} {n}")).collect();
        println!(
            "{name}: {} cells ({}), {twins} missing-id twins, {:.1?}",
            self.rows.len(),
            counts.join(", "),
            started.elapsed()
        );
        assert!(
            failures.is_empty(),
            "{name}: {} of {} cells failed:\n{}",
            failures.len(),
            self.rows.len(),
            failures.join("\n")
        );
    }
}

fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}
