//! Billing: subscriptions, subscription items, payment attempts and what they contain.

use serde::{Deserialize, Serialize};

use super::common::{non_empty, open_enum};

open_enum! {
    /// The state of a subscription or subscription item.
    ///
    /// ```
    /// use clerk_webhooks::event::BillingStatus;
    ///
    /// let value: BillingStatus = serde_json::from_str(r#""past_due""#)?;
    /// assert_eq!(value, BillingStatus::PastDue);
    /// assert_eq!(BillingStatus::from("paused"), BillingStatus::Other("paused".into()));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub enum BillingStatus {
        /// Paid and running.
        Active = "active",
        /// Payment overdue.
        PastDue = "past_due",
        /// Canceled; runs until the end of the period.
        Canceled = "canceled",
        /// Over.
        Ended = "ended",
        /// Expired.
        Expired = "expired",
        /// Abandoned before completion.
        Abandoned = "abandoned",
        /// Waiting for a first payment.
        Incomplete = "incomplete",
        /// Starts at the next period.
        Upcoming = "upcoming",
    }
}

open_enum! {
    /// The state of a payment attempt.
    ///
    /// ```
    /// use clerk_webhooks::event::PaymentAttemptStatus;
    ///
    /// let value: PaymentAttemptStatus = serde_json::from_str(r#""paid""#)?;
    /// assert_eq!(value, PaymentAttemptStatus::Paid);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub enum PaymentAttemptStatus {
        /// In progress.
        Pending = "pending",
        /// Paid.
        Paid = "paid",
        /// Failed.
        Failed = "failed",
    }
}

open_enum! {
    /// Why a payment was charged.
    ///
    /// ```
    /// use clerk_webhooks::event::ChargeType;
    ///
    /// let value: ChargeType = serde_json::from_str(r#""recurring""#)?;
    /// assert_eq!(value.as_str(), "recurring");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub enum ChargeType {
        /// At checkout.
        Checkout = "checkout",
        /// A renewal.
        Recurring = "recurring",
    }
}

/// A billing interval: a name (`month`, `annual`) in some payloads, a count in others.
///
/// ```
/// use clerk_webhooks::event::BillingInterval;
///
/// let named: BillingInterval = serde_json::from_str(r#""month""#)?;
/// let counted: BillingInterval = serde_json::from_str("1")?;
/// assert_eq!(named, BillingInterval::Name("month".into()));
/// assert_eq!(counted, BillingInterval::Count(1));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BillingInterval {
    /// How many periods (with the period named elsewhere).
    Count(i64),
    /// The period's name.
    Name(String),
}

/// An amount of money in minor units with its formatting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingAmount {
    /// The amount in minor units (cents).
    pub amount: i64,
    /// Formatted for display (`$20.00`).
    #[serde(default)]
    pub amount_formatted: Option<String>,
    /// ISO currency code.
    #[serde(default)]
    pub currency: Option<String>,
    /// The currency symbol.
    #[serde(default)]
    pub currency_symbol: Option<String>,
}

/// An amount that some payloads send as a [`BillingAmount`] and others as bare minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BillingAmountValue {
    /// Bare minor units.
    MinorUnits(i64),
    /// A formatted amount.
    Amount(BillingAmount),
}

/// Who pays: a user or an organization.
///
/// Clerk sends `""`, not `null`, for the fields of the side that does not apply; the accessor
/// methods turn those into `None`.
///
/// ```
/// use clerk_webhooks::event::BillingPayer;
///
/// let payer: BillingPayer = serde_json::from_str(
///     r#"{"id":"cpayer_1","user_id":"user_1","organization_id":"","organization_name":""}"#,
/// )?;
/// assert_eq!(payer.user_id(), Some("user_1"));
/// assert_eq!(payer.organization_id(), None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingPayer {
    /// The payer id (`cpayer_...`).
    pub id: String,
    /// Always `commerce_payer` when present.
    pub object: Option<String>,
    /// The instance.
    pub instance_id: Option<String>,
    /// The paying user, or `""`.
    pub user_id: Option<String>,
    /// The user's first name, or `""`.
    pub first_name: Option<String>,
    /// The user's last name, or `""`.
    pub last_name: Option<String>,
    /// The billing email.
    pub email: Option<String>,
    /// The paying organization, or `""`.
    pub organization_id: Option<String>,
    /// The organization's name, or `""`.
    pub organization_name: Option<String>,
    /// The payer's image.
    pub image_url: Option<String>,
    /// Creation (Unix ms).
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    pub updated_at: Option<i64>,
}

impl BillingPayer {
    /// The paying user, `None` when absent, null or empty.
    ///
    /// ```
    /// use clerk_webhooks::event::BillingPayer;
    ///
    /// let payer: BillingPayer = serde_json::from_str(r#"{"id":"cpayer_1","user_id":""}"#)?;
    /// assert_eq!(payer.user_id(), None);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn user_id(&self) -> Option<&str> {
        non_empty(&self.user_id)
    }

    /// The paying organization, `None` when absent, null or empty.
    ///
    /// ```
    /// use clerk_webhooks::event::BillingPayer;
    ///
    /// let payer: BillingPayer = serde_json::from_str(r#"{"id":"cpayer_1","organization_id":"org_1"}"#)?;
    /// assert_eq!(payer.organization_id(), Some("org_1"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn organization_id(&self) -> Option<&str> {
        non_empty(&self.organization_id)
    }

    /// The organization's name, `None` when absent, null or empty.
    ///
    /// ```
    /// use clerk_webhooks::event::BillingPayer;
    ///
    /// let payer: BillingPayer = serde_json::from_str(r#"{"id":"cpayer_1","organization_name":""}"#)?;
    /// assert_eq!(payer.organization_name(), None);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn organization_name(&self) -> Option<&str> {
        non_empty(&self.organization_name)
    }
}

/// A plan, as embedded in subscription items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingPlan {
    /// The plan id (`cplan_...`).
    pub id: String,
    /// The instance.
    pub instance_id: Option<String>,
    /// The product.
    pub product_id: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// The slug.
    #[serde(default)]
    pub slug: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// Whether it is the default plan.
    pub is_default: Option<bool>,
    /// Whether it renews.
    pub is_recurring: Option<bool>,
    /// Whether changes are prorated.
    pub is_prorated: Option<bool>,
    /// Whether it has a base fee.
    pub has_base_fee: Option<bool>,
    /// Whether it is shown publicly.
    pub publicly_visible: Option<bool>,
    /// The price in minor units.
    pub amount: Option<i64>,
    /// The monthly price when paid annually, in minor units.
    pub annual_monthly_amount: Option<i64>,
    /// ISO currency code.
    pub currency: Option<String>,
    /// `month` or `annual`.
    pub period: Option<String>,
    /// The interval.
    pub interval: Option<BillingInterval>,
    /// Per-unit prices (seats, ...).
    pub unit_prices: Option<Vec<BillingUnitPrice>>,
}

/// A per-unit price of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingUnitPrice {
    /// The unit (`seats`).
    #[serde(default)]
    pub name: Option<String>,
    /// Units per block.
    #[serde(default)]
    pub block_size: Option<i64>,
    /// The price tiers.
    #[serde(default)]
    pub tiers: Vec<BillingUnitPriceTier>,
}

/// One tier of a per-unit price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingUnitPriceTier {
    /// The first block of the tier.
    #[serde(default)]
    pub starts_at_block: Option<i64>,
    /// The last block of the tier; `None`: unbounded.
    pub ends_after_block: Option<i64>,
    /// The price per block in minor units.
    #[serde(default)]
    pub amount_per_block: Option<i64>,
    /// ISO currency code.
    pub currency: Option<String>,
}

/// Seats bought with a subscription item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingSeats {
    /// How many.
    pub quantity: Option<i64>,
}

/// A proration credit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingCredit {
    /// The credited amount.
    pub amount: BillingAmount,
    /// Days left in the cycle.
    pub cycle_days_remaining: Option<i64>,
    /// Days in the cycle.
    pub cycle_days_total: Option<i64>,
    /// The part of the cycle left (0 to 1).
    pub cycle_remaining_percent: Option<f64>,
}

/// Credit from the payer's balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingPayerCredit {
    /// What was applied.
    pub applied_amount: BillingAmount,
    /// What is left.
    pub remaining_balance: BillingAmount,
}

/// All credits applied to a subscription item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingCredits {
    /// Proration credit.
    pub proration: Option<BillingCredit>,
    /// Balance credit.
    pub payer: Option<BillingPayerCredit>,
    /// The total.
    pub total: Option<BillingAmount>,
}

/// A subscription item: one plan of a subscription (`subscriptionItem.*`, and nested in
/// subscriptions and payment attempts).
///
/// Clerk sends two shapes (see the module docs); every field either shape may lack is optional.
///
/// ```
/// use clerk_webhooks::event::{BillingStatus, BillingSubscriptionItem};
///
/// let item: BillingSubscriptionItem = serde_json::from_str(
///     r#"{"id":"csub_item_1","status":"past_due","interval":"month","plan":{"id":"cplan_1","interval":1}}"#,
/// )?;
/// assert_eq!(item.status, BillingStatus::PastDue);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingSubscriptionItem {
    /// The item id (`csub_item_...`).
    pub id: String,
    /// `commerce_subscription_item` or `subscription_item`.
    pub object: Option<String>,
    /// Its state.
    pub status: BillingStatus,
    /// Whether it is in a free trial.
    pub is_free_trial: Option<bool>,
    /// Creation (Unix ms).
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    pub updated_at: Option<i64>,
    /// Start of the current period (Unix ms).
    pub period_start: Option<i64>,
    /// End of the current period (Unix ms).
    pub period_end: Option<i64>,
    /// The interval (`month`, `annual`).
    pub interval: Option<BillingInterval>,
    /// The period (`month`, `annual`), in the other shape.
    pub plan_period: Option<String>,
    /// The plan id.
    pub plan_id: Option<String>,
    /// The plan.
    pub plan: Option<BillingPlan>,
    /// The payer id.
    pub payer_id: Option<String>,
    /// The payer.
    pub payer: Option<BillingPayer>,
    /// The subscription it belongs to.
    pub subscription_id: Option<String>,
    /// Seats.
    pub seats: Option<BillingSeats>,
    /// Proration credit.
    pub credit: Option<BillingCredit>,
    /// All credits.
    pub credits: Option<BillingCredits>,
    /// The proration date (`YYYY-MM-DD`).
    pub proration_date: Option<String>,
    /// When it was canceled (Unix ms).
    pub canceled_at: Option<i64>,
    /// When it became past due (Unix ms).
    pub past_due_at: Option<i64>,
    /// When it ended (Unix ms).
    pub ended_at: Option<i64>,
    /// Paid so far.
    pub lifetime_paid: Option<BillingAmountValue>,
    /// The next payment, in minor units.
    pub next_payment_amount: Option<i64>,
    /// The next payment date (Unix ms).
    pub next_payment_date: Option<i64>,
    /// The amount per period.
    pub amount: Option<BillingAmount>,
}

/// A subscription of a payer (`subscription.created`, `.updated`, `.active`, `.pastDue`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingSubscription {
    /// The subscription id (`csub_...`).
    pub id: String,
    /// Always `commerce_subscription`.
    pub object: Option<String>,
    /// Its state.
    pub status: BillingStatus,
    /// When it became active (Unix ms).
    pub active_at: Option<i64>,
    /// When it was canceled (Unix ms).
    pub canceled_at: Option<i64>,
    /// Creation (Unix ms).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// When it ended (Unix ms).
    pub ended_at: Option<i64>,
    /// When it became past due (Unix ms).
    pub past_due_at: Option<i64>,
    /// Last update (Unix ms).
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// The latest payment.
    pub latest_payment_id: Option<String>,
    /// The payer id.
    pub payer_id: Option<String>,
    /// The payer.
    pub payer: Option<BillingPayer>,
    /// The payment method.
    pub payment_source_id: Option<String>,
    /// Its items.
    #[serde(default)]
    pub items: Vec<BillingSubscriptionItem>,
}

/// A payment attempt (`paymentAttempt.created`, `paymentAttempt.updated`).
///
/// ```
/// use clerk_webhooks::event::{BillingPaymentAttempt, PaymentAttemptStatus};
///
/// let attempt: BillingPaymentAttempt =
///     serde_json::from_str(r#"{"id":"pa_1","status":"failed","failed_reason":{"code":"card_declined"}}"#)?;
/// assert_eq!(attempt.status, PaymentAttemptStatus::Failed);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingPaymentAttempt {
    /// The attempt id.
    pub id: String,
    /// `commerce_payment_attempt`, when present.
    pub object: Option<String>,
    /// The instance.
    pub instance_id: Option<String>,
    /// The payment.
    pub payment_id: Option<String>,
    /// The invoice.
    pub invoice_id: Option<String>,
    /// The statement.
    pub statement_id: Option<String>,
    /// The payment's id at the gateway (Stripe).
    pub gateway_external_id: Option<String>,
    /// Its state.
    pub status: PaymentAttemptStatus,
    /// Creation (Unix ms).
    pub created_at: Option<i64>,
    /// Last update (Unix ms).
    pub updated_at: Option<i64>,
    /// When it was paid (Unix ms).
    pub paid_at: Option<i64>,
    /// When it failed (Unix ms).
    pub failed_at: Option<i64>,
    /// Why it failed.
    pub failed_reason: Option<BillingFailedReason>,
    /// The billing date (Unix ms).
    pub billing_date: Option<i64>,
    /// Why it was charged.
    pub charge_type: Option<ChargeType>,
    /// Who is paid.
    pub payee: Option<BillingPayee>,
    /// Who pays.
    pub payer: Option<BillingPayer>,
    /// The totals.
    pub totals: Option<BillingTotals>,
    /// The payment method.
    pub payment_source: Option<BillingPaymentSource>,
    /// The items paid for.
    #[serde(default)]
    pub subscription_items: Vec<BillingSubscriptionItem>,
}

/// Why a payment failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingFailedReason {
    /// The gateway's code.
    #[serde(default)]
    pub code: Option<String>,
    /// The card issuer's decline code.
    pub decline_code: Option<String>,
}

/// The receiving account at the payment gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingPayee {
    /// The payee id.
    pub id: String,
    /// The gateway (`stripe`).
    pub gateway_type: Option<String>,
    /// The account's id at the gateway.
    pub gateway_external_id: Option<String>,
    /// The account's status at the gateway.
    pub gateway_status: Option<String>,
}

/// Subtotal, tax and total of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingTotals {
    /// Before tax.
    pub subtotal: BillingAmount,
    /// Tax.
    pub tax_total: BillingAmount,
    /// Total.
    pub grand_total: BillingAmount,
    /// Per-unit totals.
    pub per_unit_totals: Option<Vec<BillingUnitTotal>>,
}

/// The total for one unit (seats, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingUnitTotal {
    /// The unit.
    pub name: Option<String>,
    /// The price per unit in minor units.
    pub amount: Option<i64>,
    /// How many.
    pub quantity: Option<i64>,
    /// The total in minor units.
    pub total: Option<i64>,
    /// ISO currency code.
    pub currency: Option<String>,
}

/// A payment method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BillingPaymentSource {
    /// The payment source id.
    pub id: String,
    /// The gateway (`stripe`).
    pub gateway: Option<String>,
    /// The method's id at the gateway.
    pub gateway_external_id: Option<String>,
    /// The account's id at the gateway.
    pub gateway_external_account_id: Option<String>,
    /// `card`, `link`, ...
    pub payment_method: Option<String>,
    /// `active` or `disconnected`.
    pub status: Option<String>,
    /// The card brand.
    pub card_type: Option<String>,
    /// The card's last four digits.
    pub last4: Option<String>,
}
