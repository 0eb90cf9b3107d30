use leptos::prelude::*;

#[component]
pub fn AnnotatePage() -> impl IntoView {
    view! { <p>"Annotate"</p> }
}
