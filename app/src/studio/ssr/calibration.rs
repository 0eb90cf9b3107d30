//! Each user's measured recording latency, per input device.
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::db::{latency_calibration, user};
use crate::error::AppError;
use crate::studio::{CalibrationInfo, NewCalibration};

fn calibration_info(m: latency_calibration::Model) -> CalibrationInfo {
    CalibrationInfo {
        device_key: m.device_key,
        device_label: m.device_label,
        latency_ms: m.latency_ms,
        spread_ms: m.spread_ms,
        quality_db: m.quality_db,
        sample_rate: m.sample_rate,
        runs: m.runs,
        accepted: m.accepted,
        measured_at: m.measured_at.to_rfc3339(),
    }
}

/// Stores `new` as the user's latency for its device, replacing an earlier measurement of it.
/// The server applies the same quality gate as the browser: a weak result is refused, not stored.
#[tracing::instrument(skip_all, fields(user = %u.id))]
pub async fn save_calibration(
    db: &sea_orm::DatabaseConnection,
    u: &user::Model,
    new: NewCalibration,
) -> Result<CalibrationInfo, AppError> {
    let key = new.device_key.trim().to_string();
    if key.is_empty() || key.chars().count() > 512 {
        return Err(AppError::Invalid("The input device is missing or its key is too long.".into()));
    }
    if !new.latency_ms.is_finite() || !(0.0..=1000.0).contains(&new.latency_ms) {
        return Err(AppError::Invalid("The round-trip latency must be between 0 and 1000 ms.".into()));
    }
    if !new.spread_ms.is_finite() || !(0.0..=1000.0).contains(&new.spread_ms) {
        return Err(AppError::Invalid("The spread must be between 0 and 1000 ms.".into()));
    }
    if !(8_000..=384_000).contains(&new.sample_rate) {
        return Err(AppError::Invalid("The sample rate must be between 8 and 384 kHz.".into()));
    }
    if new.runs < 1 || new.runs > 50 || new.accepted < 1 || new.accepted > new.runs {
        return Err(AppError::Invalid("Runs must be 1 to 50, with 1 to that many accepted.".into()));
    }
    let gate = ::audio::calibration::DEFAULT_GATE_DB;
    if !new.quality_db.is_finite() || new.quality_db < gate {
        return Err(AppError::Invalid(format!(
            "The measurement is too weak to trust (peak-to-noise {:.1} dB, the gate is {gate:.0} dB).",
            new.quality_db
        )));
    }
    let label: String = new.device_label.trim().chars().take(200).collect();
    let agent: String = new.user_agent.chars().take(500).collect();
    let txn = crate::db::begin_write(db).await?;
    // A new measurement of the same input replaces the old one.
    latency_calibration::Entity::delete_many()
        .filter(latency_calibration::Column::UserId.eq(u.id))
        .filter(latency_calibration::Column::DeviceKey.eq(key.clone()))
        .exec(&txn)
        .await?;
    let row = latency_calibration::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(u.id),
        device_key: Set(key),
        device_label: Set(label),
        latency_ms: Set(new.latency_ms),
        spread_ms: Set(new.spread_ms),
        quality_db: Set(new.quality_db),
        sample_rate: Set(new.sample_rate),
        runs: Set(new.runs),
        accepted: Set(new.accepted),
        user_agent: Set(agent),
        measured_at: Set(Utc::now()),
    };
    let saved = row.insert(&txn).await?;
    txn.commit().await?;
    Ok(calibration_info(saved))
}

/// The user's stored latency measurements, newest first.
pub async fn calibrations(db: &impl ConnectionTrait, u: &user::Model) -> Result<Vec<CalibrationInfo>, AppError> {
    Ok(latency_calibration::Entity::find()
        .filter(latency_calibration::Column::UserId.eq(u.id))
        .order_by_desc(latency_calibration::Column::MeasuredAt)
        .all(db)
        .await?
        .into_iter()
        .map(calibration_info)
        .collect())
}
