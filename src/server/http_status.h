#pragma once
// The one place where HTTP status codes and TikTok envelope codes are chosen from Status codes.
#include "core/status.h"

namespace touchpoint::server {

int HttpStatusFor(const Status& status);
// TikTok Events API envelope code: 0 OK, 40001 no permission, 40002 invalid parameter,
// 40100 too many requests, 50002 server error.
int TikTokCodeFor(const Status& status);

}  // namespace touchpoint::server
