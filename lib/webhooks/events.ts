// The events a webhook endpoint can subscribe to, in the product's words; the database's list
// (private.webhook_event_types in 20261204000600_webhooks.sql) is the same six.
export const WEBHOOK_EVENTS = [
  "post.published",
  "post.failed",
  "post.needs_review",
  "account.paused",
  "account.resumed",
  "account.health_alert",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** What each event means, for the form and the docs. */
export const WEBHOOK_EVENT_DESCRIPTIONS: Record<WebhookEventType, string> = {
  "post.published": "A post went live on one account (one event per account it was queued for).",
  "post.failed": "A post failed for good on one account: no retry is left.",
  "post.needs_review": "A post needs a person: Pacer could not tell whether it went live.",
  "account.paused": "An account stopped publishing: paused, restricted, or waiting to be reconnected or reviewed.",
  "account.resumed": "An account can publish again.",
  "account.health_alert": "A health alert opened on an account (reach decline, failures, inactivity, …).",
};
