#pragma once
// The one place that includes Asio/Beast. Boost 1.74's Asio uses std::exchange without
// including <utility> under C++20 with GCC 12, so <utility> comes first.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <utility>
