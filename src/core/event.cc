#include "core/event.h"

#include <array>
#include <string_view>

namespace touchpoint {

const char* AdEventTypeName(AdEventType type) {
  switch (type) {
    case AdEventType::kImpression:
      return "impression";
    case AdEventType::kVideoPlay:
      return "video_play";
    case AdEventType::kClick:
      return "click";
  }
  return "impression";
}

std::optional<AdEventType> ParseAdEventType(std::string_view name) {
  if (name == "impression") return AdEventType::kImpression;
  if (name == "video_play") return AdEventType::kVideoPlay;
  if (name == "click") return AdEventType::kClick;
  return std::nullopt;
}

bool IsPurchaseEvent(std::string_view event) {
  return event == "CompletePayment" || event == "Purchase" || event == "PlaceAnOrder";
}

bool IsStandardEvent(std::string_view event) {
  static constexpr std::array<std::string_view, 27> kStandard = {"PageView",
                                                                 "Pageview",
                                                                 "ViewContent",
                                                                 "ClickButton",
                                                                 "Search",
                                                                 "AddToWishlist",
                                                                 "AddToCart",
                                                                 "InitiateCheckout",
                                                                 "AddPaymentInfo",
                                                                 "CompletePayment",
                                                                 "Purchase",
                                                                 "PlaceAnOrder",
                                                                 "Contact",
                                                                 "Download",
                                                                 "SubmitForm",
                                                                 "CompleteRegistration",
                                                                 "Subscribe",
                                                                 "Lead",
                                                                 "StartTrial",
                                                                 "CustomizeProduct",
                                                                 "FindLocation",
                                                                 "Schedule",
                                                                 "ApplicationApproval",
                                                                 "SubmitApplication",
                                                                 "Login",
                                                                 "Signup",
                                                                 "ViewItem"};
  for (auto s : kStandard)
    if (s == event) return true;
  return false;
}

}  // namespace touchpoint
