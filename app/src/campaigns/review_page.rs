//! The campaign card's review table: a page of tasks at a time, filtered and sorted on the
//! server, with every annotator's answers under a pseudonym, the consensus, and the gold editor.
use leptos::prelude::*;
use uuid::Uuid;

use super::{
    ReviewFilter, ReviewQuery, ReviewSort, TASKS_PER_PAGE, TaskReview, TaskSummary, campaign_review, set_gold_fn,
};
use crate::components::ErrorNotice;
use crate::domain::AnswerValue;

const FILTERS: [(ReviewFilter, &str, &str); 6] = [
    (ReviewFilter::All, "all", "All tasks"),
    (ReviewFilter::Complete, "complete", "Complete"),
    (ReviewFilter::InProgress, "in_progress", "In progress"),
    (ReviewFilter::Disputed, "disputed", "Disputed"),
    (ReviewFilter::Gold, "gold", "Gold"),
    (ReviewFilter::LowAgreement, "low_agreement", "Low agreement"),
];

const SORTS: [(ReviewSort, &str, &str); 3] = [
    (ReviewSort::Source, "source", "Source and time"),
    (ReviewSort::Answers, "answers", "Most answers"),
    (ReviewSort::Agreement, "agreement", "Lowest agreement"),
];

/// A campaign's tasks, a page at a time: listen to each clip, read its answers and consensus, and
/// make it a gold (check) task with its known answers, or a normal task again.
#[component]
pub fn ReviewTable(campaign: Uuid, instruments: Vec<String>) -> impl IntoView {
    let offset = RwSignal::new(0u64);
    let version = RwSignal::new(0u32);
    let filter = RwSignal::new(ReviewFilter::All);
    let sort = RwSignal::new(ReviewSort::Source);
    let page = Resource::new(
        move || (offset.get(), version.get(), filter.get(), sort.get()),
        move |(offset, _, filter, sort)| {
            campaign_review(campaign, ReviewQuery { offset, filter, sort, ..Default::default() })
        },
    );
    view! {
        <div class="task-list">
            <div class="row">
                <label>"Show "
                    <select class="review-filter" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some((f, _, _)) = FILTERS.iter().find(|(_, key, _)| *key == v) {
                            offset.set(0);
                            filter.set(*f);
                        }
                    }>
                        {FILTERS.iter().map(|(f, key, text)| view! {
                            <option value=*key selected=move || filter.get() == *f>{*text}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Sort by "
                    <select class="review-sort" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some((s, _, _)) = SORTS.iter().find(|(_, key, _)| *key == v) {
                            offset.set(0);
                            sort.set(*s);
                        }
                    }>
                        {SORTS.iter().map(|(s, key, text)| view! {
                            <option value=*key selected=move || sort.get() == *s>{*text}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let instruments = instruments.clone();
                    Suspend::new(async move {
                        let p = match page.await {
                            Ok(p) => p,
                            Err(e) => return view! { <ErrorNotice error=e /> }.into_any(),
                        };
                        let (start, shown, total) = (p.offset, p.tasks.len() as u64, p.total);
                        let n = instruments.len().max(1);
                        let groups: Vec<String> = p.annotators.iter().cloned().chain(["Consensus".to_string()]).collect();
                        let annotators = p.annotators.clone();
                        view! {
                            <p class="muted">{if total == 0 && filter.get_untracked() == ReviewFilter::All {
                                "No tasks yet: build some above.".to_string()
                            } else if total == 0 {
                                "No tasks here.".to_string()
                            } else {
                                format!("Tasks {}–{} of {total}", start + 1, start + shown)
                            }}</p>
                            <div class="review-scroll">
                                <table class="table review" aria-label="Answers per task">
                                    <thead>
                                        <tr>
                                            <th scope="col" rowspan="2">"Task"</th>
                                            {groups.iter().map(|g| view! { <th scope="colgroup" colspan=n.to_string()>{g.clone()}</th> }).collect_view()}
                                        </tr>
                                        <tr>
                                            {groups.iter().flat_map(|_| instruments.iter()).map(|slug| view! {
                                                <th scope="col" class="small">{slug.clone()}</th>
                                            }).collect_view()}
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {p.tasks.into_iter().map(|t| view! {
                                            <ReviewRow task=t annotators=annotators.clone() instruments=instruments.clone()
                                                on_change=move || version.update(|v| *v += 1) />
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <div class="row">
                                <button type="button" disabled={start == 0}
                                    on:click=move |_| offset.update(|o| *o = o.saturating_sub(TASKS_PER_PAGE))>"Previous"</button>
                                <button type="button" disabled={start + shown >= total}
                                    on:click=move |_| offset.update(|o| *o += TASKS_PER_PAGE)>"Next"</button>
                            </div>
                        }.into_any()
                    })
                }}
            </Transition>
        </div>
    }
}

fn answer_text(a: Option<&AnswerValue>) -> &'static str {
    match a {
        Some(AnswerValue::Present) => "present",
        Some(AnswerValue::Absent) => "absent",
        Some(AnswerValue::Unsure) => "unsure",
        None => "—",
    }
}

#[component]
fn ReviewRow(
    task: TaskReview,
    annotators: Vec<String>,
    instruments: Vec<String>,
    on_change: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let TaskReview { task, answers, consensus, disputed, .. } = task;
    let tid = task.id;
    let cells = annotators.into_iter().flat_map(|name| {
        let given = answers.iter().find(|a| a.annotator == name).map(|a| a.answers.clone());
        instruments
            .iter()
            .map(move |slug| {
                let text = match &given {
                    Some(map) => answer_text(map.get(slug)),
                    None => "",
                };
                view! { <td data-annotator=name.clone() data-instrument=slug.clone() data-answer=text>{text}</td> }
            })
            .collect::<Vec<_>>()
    });
    let agreed = instruments.iter().map(|slug| {
        let text = match consensus.iter().find(|l| l.instrument == *slug) {
            Some(l) => format!(
                "{} {:.0}%",
                match l.label {
                    Some(true) => "present",
                    Some(false) => "absent",
                    None => "tie",
                },
                l.confidence * 100.0
            ),
            None => "—".to_string(),
        };
        view! { <td data-consensus=slug.clone()>{text}</td> }
    });
    view! {
        <tr data-task=tid.to_string() data-disputed=disputed.to_string()>
            <td><TaskItem task instruments=instruments.clone() disputed on_change /></td>
            {cells.collect_view()}
            {agreed.collect_view()}
        </tr>
    }
}

#[component]
fn TaskItem(
    task: TaskSummary,
    instruments: Vec<String>,
    disputed: bool,
    on_change: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let id = task.id;
    let editing = RwSignal::new(false);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    // The instruments ticked as present; every other instrument of the campaign is known absent.
    let present: RwSignal<Vec<String>> = RwSignal::new(
        task.gold_answers
            .as_ref()
            .map(|g| g.iter().filter(|(_, p)| **p).map(|(s, _)| s.clone()).collect())
            .unwrap_or_default(),
    );
    // "None of these is present" is said, not inferred from nothing ticked.
    let none_present = RwSignal::new(task.gold_answers.as_ref().is_some_and(|g| g.values().all(|p| !p)));
    let save = {
        let instruments = instruments.clone();
        move |gold: bool| {
            if gold && present.get_untracked().is_empty() && !none_present.get_untracked() {
                error.set(Some("Tick the instruments present in this clip, or “None of these” if it has none.".into()));
                return;
            }
            let answers =
                gold.then(|| instruments.iter().map(|s| (s.clone(), present.get_untracked().contains(s))).collect());
            let on_change = on_change.clone();
            leptos::task::spawn_local(async move {
                match set_gold_fn(id, answers).await {
                    Ok(()) => {
                        error.set(None);
                        editing.set(false);
                        on_change();
                    }
                    Err(e) => error.set(Some(e.to_string())),
                }
            });
        }
    };
    let status = match &task.gold_answers {
        Some(g) => {
            let heard: Vec<&str> = g.iter().filter(|(_, p)| **p).map(|(s, _)| s.as_str()).collect();
            format!("gold · present: {}", if heard.is_empty() { "none".to_string() } else { heard.join(", ") })
        }
        None => format!(
            "{} of {} answers{}",
            task.annotations,
            task.required,
            if task.complete { " · complete" } else { "" }
        ),
    };
    let is_gold = task.gold_answers.is_some();
    let (save_gold, save_normal) = (save.clone(), save);
    view! {
        <div class="task-item" data-task=id.to_string() data-gold=is_gold.to_string()>
            <audio controls preload="none" src=format!("/api/v1/audio/{}/canonical", task.clip_id)></audio>
            <span>{format!("{} @ {:.1} s", task.source, task.offset_seconds)}</span>
            <span class="muted">{status}</span>
            {disputed.then(|| view! { <strong class="small disputed">"disputed"</strong> })}
            <button type="button" on:click=move |_| editing.update(|e| *e = !*e)>
                {if is_gold { "Edit gold answers" } else { "Make gold" }}
            </button>
            {is_gold.then(|| view! { <button type="button" on:click=move |_| save_normal(false)>"Make normal"</button> })}
            {move || editing.get().then(|| {
                let save_gold = save_gold.clone();
                view! {
                    <fieldset class="gold-answers">
                        <legend>"Tick the instruments present in this clip (the others are absent)"</legend>
                        {instruments.iter().cloned().map(|slug| {
                            let (checked, changed) = (slug.clone(), slug.clone());
                            view! {
                                <label class="checkbox">
                                    <input type="checkbox" prop:checked=move || present.get().contains(&checked)
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            let s = changed.clone();
                                            present.update(|v| if on { if !v.contains(&s) { v.push(s) } } else { v.retain(|x| *x != s) });
                                            if on { none_present.set(false) }
                                            error.set(None);
                                        } />
                                    {slug}
                                </label>
                            }
                        }).collect_view()}
                        <label class="checkbox">
                            <input type="checkbox" class="none-present" prop:checked=move || none_present.get()
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    none_present.set(on);
                                    if on { present.set(Vec::new()) }
                                    error.set(None);
                                } />
                            "None of these"
                        </label>
                        <button type="button" class="primary" on:click=move |_| save_gold(true)>"Save as gold"</button>
                    </fieldset>
                }
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}
