//! The dashboard's filters: date range and campaign. A change goes into the URL's query (so the
//! view can be shared) and the page's figures follow it; without scripts the form still submits
//! as a plain GET.
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use uuid::Uuid;

use crate::dashboard::{DashboardSetup, Filters};

#[component]
pub fn FilterBar(init: DashboardSetup, filters: Memo<Filters>) -> impl IntoView {
    let navigate = use_navigate();
    let current = filters.get_untracked();
    let from = RwSignal::new(current.from.clone().unwrap_or_else(|| init.default_from.clone()));
    let to = RwSignal::new(current.to.clone().unwrap_or_else(|| init.default_to.clone()));
    let campaign = RwSignal::new(current.campaign.map(|c| c.to_string()).unwrap_or_default());
    let go = move || {
        let f = Filters {
            from: Some(from.get_untracked()).filter(|s| !s.is_empty()),
            to: Some(to.get_untracked()).filter(|s| !s.is_empty()),
            campaign: Uuid::parse_str(&campaign.get_untracked()).ok(),
        };
        navigate(&format!("/dashboard?{}", f.query()), Default::default());
    };
    let (go1, go2, go3, go4) = (go.clone(), go.clone(), go.clone(), go);
    let selected = campaign.get_untracked();
    view! {
        <form class="dash-filters" method="get" action="/dashboard" on:submit=move |ev| { ev.prevent_default(); go4(); }>
            <label>
                "From"
                <input type="date" name="from" prop:value=move || from.get()
                    on:change=move |ev| { from.set(event_target_value(&ev)); go1(); } />
            </label>
            <label>
                "To"
                <input type="date" name="to" prop:value=move || to.get()
                    on:change=move |ev| { to.set(event_target_value(&ev)); go2(); } />
            </label>
            <label>
                "Campaign"
                <select name="campaign" on:change=move |ev| { campaign.set(event_target_value(&ev)); go3(); }>
                    <option value="" selected=selected.is_empty()>"All campaigns"</option>
                    {init.campaigns.into_iter().map(|c| {
                        let id = c.id.to_string();
                        let is = id == selected;
                        view! { <option value=id selected=is>{c.name}</option> }
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="small">"Apply"</button>
        </form>
    }
}
