//! The ids the [samples](fn@super::sample) carry, so a test asserts on a name rather than on a
//! copied `user_2g7np...`.
//!
//! Every sample of a family carries the same id: `user.created`, `user.updated` and `user.deleted`
//! are all about [`USER`]; the envelope of every sample that has one names [`INSTANCE`].
//!
//! ```
//! use clerk_webhooks::testing::{ids, sample_event};
//! use clerk_webhooks::ClerkEvent;
//!
//! let parsed = sample_event("user.created").unwrap();
//! let ClerkEvent::UserCreated(user) = parsed.event else { unreachable!() };
//! assert_eq!(user.id, ids::USER);
//! assert_eq!(parsed.meta.instance_id.as_deref(), Some(ids::INSTANCE));
//! ```

/// The Clerk instance in the envelope (`instance_id`) of the samples that carry one.
pub const INSTANCE: &str = "ins_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `user.*`.
pub const USER: &str = "user_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `session.*`.
pub const SESSION: &str = "sess_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `email.created`.
pub const EMAIL: &str = "ema_abcd";
/// `sms.created`.
pub const SMS: &str = "sms_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `organization.*`.
pub const ORGANIZATION: &str = "org_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `organizationDomain.*`.
pub const ORGANIZATION_DOMAIN: &str = "orgdmn_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `organizationInvitation.*`.
pub const ORGANIZATION_INVITATION: &str = "orginv_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `organizationMembership.*`.
pub const ORGANIZATION_MEMBERSHIP: &str = "orgmem_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `invitation.*` (invitations to the application).
pub const INVITATION: &str = "inv_2gInvite0000000000000000";
/// `role.*`.
pub const ROLE: &str = "role_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `permission.*`.
pub const PERMISSION: &str = "perm_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `waitlistEntry.*`.
pub const WAITLIST_ENTRY: &str = "wle_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `subscription.*`.
pub const SUBSCRIPTION: &str = "csub_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `subscriptionItem.*`.
pub const SUBSCRIPTION_ITEM: &str = "csub_item_2g7np7Hrk0SN6kj5EDMLDaKNL0S";
/// `paymentAttempt.*`.
pub const PAYMENT_ATTEMPT: &str = "pa_2g7np7Hrk0SN6kj5EDMLDaKNL0S";

/// The id a sample of `event_type` carries in `data.id`.
#[cfg(test)]
pub(crate) fn of(event_type: &str) -> Option<&'static str> {
    let family = event_type
        .split_once('.')
        .map_or(event_type, |(family, _)| family);
    Some(match family {
        "user" => USER,
        "session" => SESSION,
        "email" => EMAIL,
        "sms" => SMS,
        "organization" => ORGANIZATION,
        "organizationDomain" => ORGANIZATION_DOMAIN,
        "organizationInvitation" => ORGANIZATION_INVITATION,
        "organizationMembership" => ORGANIZATION_MEMBERSHIP,
        "invitation" => INVITATION,
        "role" => ROLE,
        "permission" => PERMISSION,
        "waitlistEntry" => WAITLIST_ENTRY,
        "subscription" => SUBSCRIPTION,
        "subscriptionItem" => SUBSCRIPTION_ITEM,
        "paymentAttempt" => PAYMENT_ATTEMPT,
        _ => return None,
    })
}
