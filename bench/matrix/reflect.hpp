// Printing reflected records (BOOST_HANA_DEFINE_STRUCT) without a hand-kept field list:
// every member reaches JSON, benchmark counters and reports by its own name.
#pragma once
#include <alloc/allocator.hpp>
#include <boost/hana/accessors.hpp>
#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <cmath>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

// The library's properties record is a plain struct (no Hana in <alloc/allocator.hpp>); the
// report reflects it here, where reflection is used.
BOOST_HANA_ADAPT_STRUCT(alloy::allocator_properties, thread_safe, allocate_cost, free_cost, alignment, free_needs_size,
                        max_class_size);

namespace alloy::bench {

/// Calls `f(name, value)` for every member of a reflected struct, in declaration order.
template <class Struct, class F>
void for_each_field(const Struct& s, F&& f) {
  boost::hana::for_each(boost::hana::accessors<Struct>(), [&](auto pair) {
    f(std::string_view{boost::hana::to<const char*>(boost::hana::first(pair))}, boost::hana::second(pair)(s));
  });
}

inline std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

/// `{"thread_safe": false, "allocate_cost": "O(1)", ...}` for any reflected struct.
template <class Struct>
std::string to_json(const Struct& s) {
  std::ostringstream out;
  out << '{';
  bool first = true;
  for_each_field(s, [&](std::string_view name, const auto& value) {
    using V = std::decay_t<decltype(value)>;
    out << (first ? "" : ", ") << json_string(name) << ": ";
    first = false;
    if constexpr (std::is_same_v<V, bool>) out << (value ? "true" : "false");
    else if constexpr (std::is_arithmetic_v<V>) out << value;
    else out << json_string(std::string_view{value});
  });
  out << '}';
  return out.str();
}

}  // namespace alloy::bench
