//! `connecticket report notifications`: the proof of who was told about
//! each ticket, when, and who answered, with every escalation level.

use std::io::Write;

use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};
use connecticket_domain::audit::Action;
use connecticket_domain::service::TicketStory;
use serde_json::json;

use super::AdminContext;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// One row per notification and per escalation level.
    Csv,
    /// One JSON object per ticket, its whole story nested.
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Every notified ticket: each recipient's role and channel, when it
    /// was queued, delivered and acknowledged, and each escalation step.
    Notifications {
        #[arg(long)]
        provider: i64,
        /// From this time on (default: the beginning), e.g.
        /// "2026/11/27 00:00:00 +0000".
        #[arg(long)]
        since: Option<String>,
        /// Before this time (default: now).
        #[arg(long)]
        until: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: ReportFormat,
    },
}

const CSV_HEADER: [&str; 14] = [
    "ticket_id",
    "record",
    "notification_id",
    "event",
    "escalation_level",
    "role",
    "channel",
    "state",
    "queued_at",
    "delivered_at",
    "acknowledged_at",
    "acknowledged_via",
    "acknowledged_by",
    "escalation_state",
];

fn stamp(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.to_rfc3339()).unwrap_or_default()
}

fn write_csv(out: impl Write, stories: &[TicketStory]) -> anyhow::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(CSV_HEADER)?;
    for story in stories {
        let ticket = story.ticket_id.to_string();
        let state = story.escalation.as_ref().map_or("", |e| e.state.as_str());
        for n in &story.notifications {
            let ack = n.acknowledgment.as_ref();
            csv.write_record([
                ticket.as_str(),
                "notification",
                &n.id.to_string(),
                n.event.as_str(),
                &n.escalation_level.to_string(),
                n.role.as_str(),
                n.channel.as_str(),
                n.state.as_str(),
                &stamp(Some(n.created_at)),
                &stamp(n.delivered_at),
                &stamp(ack.map(|a| a.at)),
                ack.map_or("", |a| a.via.as_str()),
                &ack.and_then(|a| a.by)
                    .map(|e| e.to_string())
                    .unwrap_or_default(),
                state,
            ])?;
        }
        for step in &story.steps {
            csv.write_record([
                ticket.as_str(),
                "escalation",
                "",
                step.kind.as_str(),
                &step.level.to_string(),
                step.role.as_deref().unwrap_or(""),
                "",
                &format!("notified {}", step.notified),
                &stamp(Some(step.at)),
                "",
                "",
                "",
                "",
                state,
            ])?;
        }
    }
    csv.flush()?;
    Ok(())
}

fn write_jsonl(mut out: impl Write, stories: &[TicketStory]) -> anyhow::Result<()> {
    for story in stories {
        let notifications: Vec<_> = story
            .notifications
            .iter()
            .map(|n| {
                let ack = n.acknowledgment.as_ref();
                json!({
                    "notification_id": n.id,
                    "event": n.event.as_str(),
                    "escalation_level": n.escalation_level,
                    "role": n.role.as_str(),
                    "channel": n.channel.as_str(),
                    "state": n.state.as_str(),
                    "queued_at": n.created_at.to_rfc3339(),
                    "delivered_at": n.delivered_at.map(|at| at.to_rfc3339()),
                    "acknowledged_at": ack.map(|a| a.at.to_rfc3339()),
                    "acknowledged_via": ack.map(|a| a.via.as_str()),
                    "acknowledged_by": ack.and_then(|a| a.by),
                })
            })
            .collect();
        let steps: Vec<_> = story
            .steps
            .iter()
            .map(|s| {
                json!({
                    "level": s.level,
                    "kind": s.kind,
                    "role": s.role,
                    "notified": s.notified,
                    "at": s.at.to_rfc3339(),
                })
            })
            .collect();
        let escalation = story.escalation.as_ref().map(|e| {
            json!({
                "state": e.state.as_str(),
                "level": e.level,
                "started_at": e.started_at.to_rfc3339(),
                "ended_at": e.ended_at.map(|at| at.to_rfc3339()),
                "next_at": e.next_at.map(|at| at.to_rfc3339()),
            })
        });
        let line = json!({
            "ticket_id": story.ticket_id,
            "escalation": escalation,
            "escalation_steps": steps,
            "notifications": notifications,
        });
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

pub(super) async fn run(context: &AdminContext, command: ReportCommand) -> anyhow::Result<()> {
    let ReportCommand::Notifications {
        provider,
        since,
        until,
        format,
    } = command;
    let since = super::audit::time("since", since)?.unwrap_or(DateTime::<Utc>::MIN_UTC);
    let until = super::audit::time("until", until)?.unwrap_or_else(Utc::now);
    let call = context
        .for_provider(Action::NotificationReport, provider)
        .await?;
    let progress = super::progress::counter("reading the notification history");
    let stories = context
        .service
        .notification_report(call, since, until)
        .await;
    progress.finish_and_clear();
    let stories = stories?;
    let out = std::io::stdout().lock();
    match format {
        ReportFormat::Csv => write_csv(out, &stories),
        ReportFormat::Jsonl => write_jsonl(out, &stories),
    }
}
