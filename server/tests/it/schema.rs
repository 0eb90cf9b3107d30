use migrations::{Migrator, MigratorTrait, OPENMIC_INSTRUMENTS};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};

use crate::helpers::TestApp;

#[tokio::test]
async fn migrations_seed_the_openmic_taxonomy() {
    let app = TestApp::spawn().await;
    let rows = app::db::instrument::Entity::find()
        .order_by_asc(app::db::instrument::Column::Position)
        .all(&app.db)
        .await
        .unwrap();
    let got: Vec<_> = rows.iter().map(|r| (r.slug.as_str(), r.family.as_str())).collect();
    let want: Vec<_> = OPENMIC_INSTRUMENTS.iter().map(|(s, _, f)| (*s, *f)).collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn migrations_go_down_and_up_again() {
    let app = TestApp::spawn().await;
    Migrator::down(&app.db, None).await.unwrap();
    assert!(app::db::user::Entity::find().count(&app.db).await.is_err(), "tables are gone");
    Migrator::up(&app.db, None).await.unwrap();
    assert_eq!(app::db::instrument::Entity::find().count(&app.db).await.unwrap(), 20);
    assert!(Migrator::get_pending_migrations(&app.db).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_identity_of_a_provider_subject_is_unique() {
    use sea_orm::{ActiveModelTrait, Set};
    let app = TestApp::spawn().await;
    let now = chrono::Utc::now();
    let user = app::db::user::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        email: Set("x@example.org".into()),
        display_name: Set("X".into()),
        avatar_url: Set(None),
        is_admin: Set(false),
        created_at: Set(now),
        last_seen_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let identity = |id| app::db::identity::ActiveModel {
        id: Set(id),
        user_id: Set(user.id),
        provider: Set("google".into()),
        subject: Set("123".into()),
        email: Set(None),
        created_at: Set(now),
    };
    identity(uuid::Uuid::new_v4()).insert(&app.db).await.unwrap();
    assert!(identity(uuid::Uuid::new_v4()).insert(&app.db).await.is_err());
}
