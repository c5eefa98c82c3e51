#pragma once
// The event model: site/app events (conversions and page views) and ad events (touchpoints).
// Identifiers that could identify a person (email, phone, external_id) are only ever held here
// as lowercase SHA-256 hex: ingest hashes clear values before building these structs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace touchpoint {

// Match keys of the person behind an event.
struct UserKeys {
  std::string ttclid;                     // click id (from ?ttclid= or the Events API)
  std::string ttp;                        // first-party cookie id (_tp / _ttp)
  std::vector<std::string> email_sha256;  // normalized, hashed
  std::vector<std::string> phone_sha256;  // E.164 with '+', hashed
  std::vector<std::string> external_id_sha256;
  std::string ip;  // as configured: truncated
  std::string user_agent;
  std::string locale;
  // Advanced-matching address fields (Events API 2.0 user.*), each normalized and hashed
  // (ingest/hashing.h); empty when not sent.
  std::string first_name_sha256;
  std::string last_name_sha256;
  std::string zip_code_sha256;
  std::string city_sha256;
  std::string state_sha256;
  std::string country_sha256;

  bool operator==(const UserKeys&) const = default;
};

struct ContentItem {
  std::string content_id;
  std::string content_name;
  std::string content_category;
  std::string content_type;
  std::string brand;
  std::optional<double> price;
  std::optional<int64_t> quantity;

  bool operator==(const ContentItem&) const = default;
};

// A site, app, offline or CRM event: PageView, AddToCart, CompletePayment, a custom name, ...
struct SiteEvent {
  std::string pixel_id;
  std::string source;           // "web", "app", "offline", "crm" (Events API) or "pixel"
  std::string event;            // event name, case kept
  std::string event_id;         // dedup key; empty when not given
  int64_t event_time_ms = 0;    // when it happened (Unix ms)
  std::string test_event_code;  // test events are stored but flagged
  UserKeys user;
  // properties
  std::optional<double> value;
  std::string currency;
  std::string order_id;
  std::string content_type;
  std::string query;
  std::string description;
  std::vector<ContentItem> contents;
  std::string shop_id;
  std::optional<int64_t> num_items;
  std::optional<double> predicted_ltv;
  // page
  std::string page_url;
  std::string page_referrer;
  // Events API 2.0 extras: who sent it, CRM leads, app and device of app events.
  std::string partner_name;  // the integrator's tag (top-level partner_name)
  std::string lead_id;
  std::string lead_event_source;  // the CRM the lead came from
  std::string app_id;
  std::string app_name;
  std::string app_version;
  std::string device_platform;
  std::string device_model;
  std::optional<bool> device_mobile;
  // Events flagged limited_data_use: kept and counted here, marked in export, and never
  // forwarded to an ad platform for optimisation.
  bool limited_data_use = false;

  bool operator==(const SiteEvent&) const = default;
};

enum class AdEventType : uint8_t { kImpression = 0, kVideoPlay = 1, kClick = 2 };

// A touchpoint from the ad side: an impression, a video play with watch time, or a click.
struct AdEvent {
  AdEventType type = AdEventType::kImpression;
  std::string event_id;  // optional idempotency key from the sender
  std::string ad_id;
  int64_t event_time_ms = 0;
  std::string user_key;  // the ad platform's user key
  std::string click_id;  // clicks only
  int64_t watch_ms = 0;  // video plays only
  int64_t video_ms = 0;  // video plays only
  std::vector<std::string> email_sha256;
  std::vector<std::string> phone_sha256;
  // audience
  std::string age;     // 13-17, 18-24, 25-34, 35-44, 45-54, 55+
  std::string gender;  // female, male, unknown
  std::string country;
  std::string region;
  std::string placement;
  std::string os;
  std::string device;
  // A lift study (query/lift.h): the person's cell, "test" or "control", and for control people
  // the impressions they would have seen (ghost: never shown, never a touchpoint).
  std::string study_id;
  std::string cell;
  bool ghost = false;

  bool operator==(const AdEvent&) const = default;
};

const char* AdEventTypeName(AdEventType type);
std::optional<AdEventType> ParseAdEventType(std::string_view name);

// The purchase-like events whose order_id is a dedup key when event_id is missing.
bool IsPurchaseEvent(std::string_view event);

// The standard event names (both TikTok lists, plus PageView); custom names are allowed too.
bool IsStandardEvent(std::string_view event);

}  // namespace touchpoint
