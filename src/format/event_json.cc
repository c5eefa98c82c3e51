#include "format/event_json.h"

#include <simdjson.h>

#include "core/json_writer.h"
#include "format/json_fields.h"

namespace touchpoint::format {

namespace {

void WriteList(JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  if (v.empty()) return;
  w.Key(key).BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

}  // namespace

void AppendSiteEventJson(const SiteEvent& ev, uint64_t seq, int64_t received_ms, std::string& out) {
  JsonWriter w(out);
  w.BeginObject().Key("kind").String("site");
  if (seq) w.Key("seq").Int(static_cast<int64_t>(seq));
  if (received_ms) w.Key("received_at_ms").Int(received_ms);
  w.Key("pixel_id").String(ev.pixel_id);
  w.StringIf("source", ev.source);
  w.Key("event").String(ev.event);
  w.Key("event_id").String(ev.event_id);
  w.Key("event_time").Int(ev.event_time_ms / 1000);
  w.Key("event_time_ms").Int(ev.event_time_ms);
  w.StringIf("test_event_code", ev.test_event_code);
  const UserKeys& u = ev.user;
  w.Key("user").BeginObject();
  w.StringIf("ttclid", u.ttclid).StringIf("ttp", u.ttp);
  WriteList(w, "email", u.email_sha256);
  WriteList(w, "phone", u.phone_sha256);
  WriteList(w, "external_id", u.external_id_sha256);
  w.StringIf("ip", u.ip).StringIf("user_agent", u.user_agent).StringIf("locale", u.locale);
  w.StringIf("first_name", u.first_name_sha256).StringIf("last_name", u.last_name_sha256);
  w.StringIf("zip_code", u.zip_code_sha256).StringIf("city", u.city_sha256);
  w.StringIf("state", u.state_sha256).StringIf("country", u.country_sha256);
  w.EndObject();
  w.Key("properties").BeginObject();
  if (ev.value) w.Key("value").Double(*ev.value);
  w.StringIf("currency", ev.currency).StringIf("order_id", ev.order_id);
  w.StringIf("content_type", ev.content_type).StringIf("query", ev.query);
  w.StringIf("description", ev.description).StringIf("shop_id", ev.shop_id);
  if (ev.num_items) w.Key("num_items").Int(*ev.num_items);
  if (ev.predicted_ltv) w.Key("predicted_ltv").Double(*ev.predicted_ltv);
  if (!ev.contents.empty()) {
    w.Key("contents").BeginArray();
    for (const auto& c : ev.contents) {
      w.BeginObject();
      w.StringIf("content_id", c.content_id).StringIf("content_name", c.content_name);
      w.StringIf("content_category", c.content_category).StringIf("content_type", c.content_type);
      w.StringIf("brand", c.brand);
      if (c.price) w.Key("price").Double(*c.price);
      if (c.quantity) w.Key("quantity").Int(*c.quantity);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  w.Key("page").BeginObject();
  w.StringIf("url", ev.page_url).StringIf("referrer", ev.page_referrer);
  w.EndObject();
  // The Events API 2.0 extras: written only when sent, so older events export as before.
  w.StringIf("partner_name", ev.partner_name);
  if (!ev.lead_id.empty() || !ev.lead_event_source.empty()) {
    w.Key("lead").BeginObject();
    w.StringIf("lead_id", ev.lead_id).StringIf("lead_event_source", ev.lead_event_source);
    w.EndObject();
  }
  if (!ev.app_id.empty() || !ev.app_name.empty() || !ev.app_version.empty()) {
    w.Key("app").BeginObject();
    w.StringIf("app_id", ev.app_id).StringIf("app_name", ev.app_name);
    w.StringIf("app_version", ev.app_version);
    w.EndObject();
  }
  if (!ev.device_platform.empty() || !ev.device_model.empty() || ev.device_mobile) {
    w.Key("device").BeginObject();
    w.StringIf("platform", ev.device_platform).StringIf("model", ev.device_model);
    if (ev.device_mobile) w.Key("mobile").Bool(*ev.device_mobile);
    w.EndObject();
  }
  if (ev.limited_data_use) w.Key("limited_data_use").Bool(true);
  w.EndObject();
}

void AppendAdEventJson(const AdEvent& ev, uint64_t seq, int64_t received_ms, std::string& out) {
  JsonWriter w(out);
  w.BeginObject().Key("kind").String("ad");
  if (seq) w.Key("seq").Int(static_cast<int64_t>(seq));
  if (received_ms) w.Key("received_at_ms").Int(received_ms);
  w.Key("type").String(AdEventTypeName(ev.type));
  w.Key("event_id").String(ev.event_id);
  w.Key("ad_id").String(ev.ad_id);
  w.Key("event_time_ms").Int(ev.event_time_ms);
  w.StringIf("user_key", ev.user_key).StringIf("click_id", ev.click_id);
  if (ev.type == AdEventType::kVideoPlay) {
    w.Key("watch_ms").Int(ev.watch_ms);
    w.Key("video_ms").Int(ev.video_ms);
  }
  WriteList(w, "email", ev.email_sha256);
  WriteList(w, "phone", ev.phone_sha256);
  w.StringIf("age", ev.age).StringIf("gender", ev.gender).StringIf("country", ev.country);
  w.StringIf("region", ev.region).StringIf("placement", ev.placement).StringIf("os", ev.os);
  w.StringIf("device", ev.device);
  w.StringIf("study_id", ev.study_id).StringIf("cell", ev.cell);
  if (ev.ghost) w.Key("ghost").Bool(true);
  w.EndObject();
}

namespace {

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

constexpr size_t kNoLimit = 1 << 30;

}  // namespace

StatusOr<SiteEvent> SiteEventFromJson(std::string_view json) {
  element root;
  if (auto err = Parser().parse(json.data(), json.size(), true).get(root))
    return JsonSyntaxError(err);
  object o;
  if (root.get_object().get(o)) return InvalidArgument("event", ": must be an object");
  SiteEvent ev;
  TP_RETURN_IF_ERROR(ReadString(o, "pixel_id", "", kNoLimit, ev.pixel_id));
  TP_RETURN_IF_ERROR(ReadString(o, "source", "", kNoLimit, ev.source));
  TP_RETURN_IF_ERROR(ReadString(o, "event", "", kNoLimit, ev.event));
  TP_RETURN_IF_ERROR(ReadString(o, "event_id", "", kNoLimit, ev.event_id));
  TP_RETURN_IF_ERROR(ReadString(o, "test_event_code", "", kNoLimit, ev.test_event_code));
  std::optional<int64_t> t;
  TP_RETURN_IF_ERROR(ReadInt(o, "event_time_ms", "", t));
  ev.event_time_ms = t.value_or(0);
  std::optional<object> sub;
  TP_RETURN_IF_ERROR(ReadObject(o, "user", "", sub));
  if (sub) {
    UserKeys& u = ev.user;
    TP_RETURN_IF_ERROR(ReadString(*sub, "ttclid", "user", kNoLimit, u.ttclid));
    TP_RETURN_IF_ERROR(ReadString(*sub, "ttp", "user", kNoLimit, u.ttp));
    TP_RETURN_IF_ERROR(ReadStringList(*sub, "email", "user", kNoLimit, u.email_sha256, kNoLimit));
    TP_RETURN_IF_ERROR(ReadStringList(*sub, "phone", "user", kNoLimit, u.phone_sha256, kNoLimit));
    TP_RETURN_IF_ERROR(
        ReadStringList(*sub, "external_id", "user", kNoLimit, u.external_id_sha256, kNoLimit));
    TP_RETURN_IF_ERROR(ReadString(*sub, "ip", "user", kNoLimit, u.ip));
    TP_RETURN_IF_ERROR(ReadString(*sub, "user_agent", "user", kNoLimit, u.user_agent));
    TP_RETURN_IF_ERROR(ReadString(*sub, "locale", "user", kNoLimit, u.locale));
    TP_RETURN_IF_ERROR(ReadString(*sub, "first_name", "user", kNoLimit, u.first_name_sha256));
    TP_RETURN_IF_ERROR(ReadString(*sub, "last_name", "user", kNoLimit, u.last_name_sha256));
    TP_RETURN_IF_ERROR(ReadString(*sub, "zip_code", "user", kNoLimit, u.zip_code_sha256));
    TP_RETURN_IF_ERROR(ReadString(*sub, "city", "user", kNoLimit, u.city_sha256));
    TP_RETURN_IF_ERROR(ReadString(*sub, "state", "user", kNoLimit, u.state_sha256));
    TP_RETURN_IF_ERROR(ReadString(*sub, "country", "user", kNoLimit, u.country_sha256));
  }
  sub.reset();
  TP_RETURN_IF_ERROR(ReadObject(o, "properties", "", sub));
  if (sub) {
    TP_RETURN_IF_ERROR(ReadNumber(*sub, "value", "properties", ev.value));
    TP_RETURN_IF_ERROR(ReadString(*sub, "currency", "properties", kNoLimit, ev.currency));
    TP_RETURN_IF_ERROR(ReadString(*sub, "order_id", "properties", kNoLimit, ev.order_id));
    TP_RETURN_IF_ERROR(ReadString(*sub, "content_type", "properties", kNoLimit, ev.content_type));
    TP_RETURN_IF_ERROR(ReadString(*sub, "query", "properties", kNoLimit, ev.query));
    TP_RETURN_IF_ERROR(ReadString(*sub, "description", "properties", kNoLimit, ev.description));
    TP_RETURN_IF_ERROR(ReadString(*sub, "shop_id", "properties", kNoLimit, ev.shop_id));
    TP_RETURN_IF_ERROR(ReadInt(*sub, "num_items", "properties", ev.num_items));
    TP_RETURN_IF_ERROR(ReadNumber(*sub, "predicted_ltv", "properties", ev.predicted_ltv));
    element contents;
    simdjson::dom::array arr;
    if (!sub->at_key("contents").get(contents) && !contents.get_array().get(arr)) {
      for (element item : arr) {
        object c;
        if (item.get_object().get(c)) return InvalidArgument("properties.contents", ": bad item");
        ContentItem ci;
        TP_RETURN_IF_ERROR(ReadString(c, "content_id", "", kNoLimit, ci.content_id));
        TP_RETURN_IF_ERROR(ReadString(c, "content_name", "", kNoLimit, ci.content_name));
        TP_RETURN_IF_ERROR(ReadString(c, "content_category", "", kNoLimit, ci.content_category));
        TP_RETURN_IF_ERROR(ReadString(c, "content_type", "", kNoLimit, ci.content_type));
        TP_RETURN_IF_ERROR(ReadString(c, "brand", "", kNoLimit, ci.brand));
        TP_RETURN_IF_ERROR(ReadNumber(c, "price", "", ci.price));
        TP_RETURN_IF_ERROR(ReadInt(c, "quantity", "", ci.quantity));
        ev.contents.push_back(std::move(ci));
      }
    }
  }
  sub.reset();
  TP_RETURN_IF_ERROR(ReadObject(o, "page", "", sub));
  if (sub) {
    TP_RETURN_IF_ERROR(ReadString(*sub, "url", "page", kNoLimit, ev.page_url));
    TP_RETURN_IF_ERROR(ReadString(*sub, "referrer", "page", kNoLimit, ev.page_referrer));
  }
  TP_RETURN_IF_ERROR(ReadString(o, "partner_name", "", kNoLimit, ev.partner_name));
  sub.reset();
  TP_RETURN_IF_ERROR(ReadObject(o, "lead", "", sub));
  if (sub) {
    TP_RETURN_IF_ERROR(ReadString(*sub, "lead_id", "lead", kNoLimit, ev.lead_id));
    TP_RETURN_IF_ERROR(
        ReadString(*sub, "lead_event_source", "lead", kNoLimit, ev.lead_event_source));
  }
  sub.reset();
  TP_RETURN_IF_ERROR(ReadObject(o, "app", "", sub));
  if (sub) {
    TP_RETURN_IF_ERROR(ReadString(*sub, "app_id", "app", kNoLimit, ev.app_id));
    TP_RETURN_IF_ERROR(ReadString(*sub, "app_name", "app", kNoLimit, ev.app_name));
    TP_RETURN_IF_ERROR(ReadString(*sub, "app_version", "app", kNoLimit, ev.app_version));
  }
  sub.reset();
  TP_RETURN_IF_ERROR(ReadObject(o, "device", "", sub));
  if (sub) {
    TP_RETURN_IF_ERROR(ReadString(*sub, "platform", "device", kNoLimit, ev.device_platform));
    TP_RETURN_IF_ERROR(ReadString(*sub, "model", "device", kNoLimit, ev.device_model));
    element m;
    bool b;
    if (!sub->at_key("mobile").get(m) && !m.get_bool().get(b)) ev.device_mobile = b;
  }
  element ldu;
  bool limited;
  if (!o.at_key("limited_data_use").get(ldu) && !ldu.get_bool().get(limited))
    ev.limited_data_use = limited;
  return ev;
}

StatusOr<AdEvent> AdEventFromJson(std::string_view json) {
  element root;
  if (auto err = Parser().parse(json.data(), json.size(), true).get(root))
    return JsonSyntaxError(err);
  object o;
  if (root.get_object().get(o)) return InvalidArgument("event", ": must be an object");
  AdEvent ev;
  std::string type;
  TP_RETURN_IF_ERROR(ReadString(o, "type", "", kNoLimit, type));
  auto t = ParseAdEventType(type);
  if (!t) return InvalidArgument("type", ": unknown");
  ev.type = *t;
  TP_RETURN_IF_ERROR(ReadString(o, "event_id", "", kNoLimit, ev.event_id));
  TP_RETURN_IF_ERROR(ReadString(o, "ad_id", "", kNoLimit, ev.ad_id));
  std::optional<int64_t> n;
  TP_RETURN_IF_ERROR(ReadInt(o, "event_time_ms", "", n));
  ev.event_time_ms = n.value_or(0);
  n.reset();
  TP_RETURN_IF_ERROR(ReadInt(o, "watch_ms", "", n));
  ev.watch_ms = n.value_or(0);
  n.reset();
  TP_RETURN_IF_ERROR(ReadInt(o, "video_ms", "", n));
  ev.video_ms = n.value_or(0);
  TP_RETURN_IF_ERROR(ReadString(o, "user_key", "", kNoLimit, ev.user_key));
  TP_RETURN_IF_ERROR(ReadString(o, "click_id", "", kNoLimit, ev.click_id));
  TP_RETURN_IF_ERROR(ReadStringList(o, "email", "", kNoLimit, ev.email_sha256, kNoLimit));
  TP_RETURN_IF_ERROR(ReadStringList(o, "phone", "", kNoLimit, ev.phone_sha256, kNoLimit));
  TP_RETURN_IF_ERROR(ReadString(o, "age", "", kNoLimit, ev.age));
  TP_RETURN_IF_ERROR(ReadString(o, "gender", "", kNoLimit, ev.gender));
  TP_RETURN_IF_ERROR(ReadString(o, "country", "", kNoLimit, ev.country));
  TP_RETURN_IF_ERROR(ReadString(o, "region", "", kNoLimit, ev.region));
  TP_RETURN_IF_ERROR(ReadString(o, "placement", "", kNoLimit, ev.placement));
  TP_RETURN_IF_ERROR(ReadString(o, "os", "", kNoLimit, ev.os));
  TP_RETURN_IF_ERROR(ReadString(o, "device", "", kNoLimit, ev.device));
  TP_RETURN_IF_ERROR(ReadString(o, "study_id", "", kNoLimit, ev.study_id));
  TP_RETURN_IF_ERROR(ReadString(o, "cell", "", kNoLimit, ev.cell));
  bool ghost = false;
  if (o["ghost"].get_bool().get(ghost) == simdjson::SUCCESS) ev.ghost = ghost;
  return ev;
}

}  // namespace touchpoint::format
