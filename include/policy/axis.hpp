// The axes a policy can sit on and the vocabulary every policy header shares: the one table of
// axes (stacking order, default policy, reading order), the tuned-form rule, and `axis_info`,
// which each axis's concept header specialises (name, concept, diagnosis).
#pragma once
#include <boost/mp11/algorithm.hpp>
#include <boost/mp11/list.hpp>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include "detail/complexity.hpp"

namespace alloy {

/// One tag per axis. A policy says which axis it sits on with `using axis = alloy::axis::X;`.
namespace axis {
struct source {};        ///< where chunks of memory come from
struct size_classes {};  ///< how request sizes map onto block sizes
struct search {};        ///< how a free block is found for a request (the heap itself)
struct alignment {};     ///< the minimum alignment of every block
struct stats {};         ///< instrumentation
struct checks {};        ///< detection of user errors (double free, overflow, ...)
struct faults {};        ///< allocations made to fail on purpose, for testing their callers
struct hardening {};     ///< defences against heap exploitation
struct reclaim {};       ///< whether and when free memory goes back to the system while the heap lives
struct threading {};     ///< how the allocator may be shared between threads
}  // namespace axis

/// The default policies, declared here so the table below can name them.
namespace policy {
struct system_pages;
template <std::size_t Min, std::size_t Max, std::size_t StepsPerDoubling>
struct geometric_classes;
struct segregated_fit;
template <std::size_t N>
struct align;
struct no_hardening;
struct no_reclaim;
struct no_stats;
struct no_checks;
struct no_faults;
struct single_thread;
}  // namespace policy

namespace detail {

/// A row of the axis table: the axis, what a composition gets when it names no policy on it,
/// and where `name_of` reads it (the first `always_named_axes` positions are always printed).
template <class Axis, class Default, std::size_t ReadAt>
struct axis_row {
  using axis = Axis;
  using default_policy = Default;
  static constexpr std::size_t read_at = ReadAt;
};

/// THE table of axes, in the order their layers stack: memory and the heap's parameters at the
/// bottom, the threading layer right on the heap, then the layers that see every user call.
/// Everything that iterates the axes (the composition, name_of, the benchmark matrix's filter)
/// reads it; a new axis is a tag above, a row here and its folder with concept.hpp.
using axis_table = boost::mp11::mp_list<
    //       axis                 default                                      name_of position
    axis_row<axis::source,        policy::system_pages,                        4>,
    axis_row<axis::size_classes,  policy::geometric_classes<16, 16384, 4>,     1>,
    axis_row<axis::search,        policy::segregated_fit,                      0>,
    axis_row<axis::alignment,     policy::align<alignof(std::max_align_t)>,    3>,
    axis_row<axis::hardening,     policy::no_hardening,                        7>,
    axis_row<axis::reclaim,       policy::no_reclaim,                          9>,
    axis_row<axis::threading,     policy::single_thread,                       2>,
    axis_row<axis::stats,         policy::no_stats,                            5>,
    axis_row<axis::checks,        policy::no_checks,                           6>,
    axis_row<axis::faults,        policy::no_faults,                           8>>;

/// name_of always prints the search, size classes, threading and alignment; the others only
/// where they differ from the default.
inline constexpr std::size_t always_named_axes = 4;

template <class Row>
using axis_of_row = typename Row::axis;

/// Orders rows by where name_of reads them.
struct by_reading_position {
  template <class A, class B>
  using fn = boost::mp11::mp_bool<(A::read_at < B::read_at)>;
};

/// The axes alone, in stacking order.
using axes = boost::mp11::mp_transform<axis_of_row, axis_table>;

template <class Axis>
struct row_of_axis {
  template <class Row>
  using fn = std::is_same<typename Row::axis, Axis>;
};

template <class Axis>
using axis_row_t = boost::mp11::mp_at<axis_table, boost::mp11::mp_find_if_q<axis_table, row_of_axis<Axis>>>;

}  // namespace detail

/// Anything that names its axis is a policy; whether it is a *good* one is each axis's concept.
template <class P>
concept any_policy = requires { typename P::axis; };

/// Every policy names itself for name_of and the benchmark report.
template <class P>
concept named_policy = requires {
  { P::name() } -> std::convertible_to<std::string>;
};

/// A policy with a tuned form (`P::x::with<...>`) says which tuned form it is with
/// `using tuned = with<default arguments>;`. The composition holds that form, so the two
/// spellings of one design are one type.
template <class P>
struct tuned_form {
  using type = P;
};
template <class P>
  requires requires { typename P::tuned; }
struct tuned_form<P> {
  using type = typename P::tuned;
};
template <class P>
using tuned_form_t = typename tuned_form<P>::type;

/// The policy a composition gets on `Axis` when it names none, in its tuned form.
template <class Axis>
using default_policy_t = tuned_form_t<typename detail::axis_row_t<Axis>::default_policy>;

/// Specialised once per axis (in `policy/<axis>/concept.hpp`) with:
///   `static constexpr std::string_view name;`              the axis as users read it,
///   `template <class P> static constexpr bool satisfied;`  the axis concept (and its laws),
///   `template <class P> static consteval bool diagnose();` the same answer, but a `false`
///       stops compilation with one static_assert naming the member or law at fault.
template <class Axis>
struct axis_info;

namespace detail {

/// The shared first step of every axis's diagnosis: the policy names itself.
template <class P>
consteval bool diagnose_name() {
  static_assert(named_policy<P>, "alloy: the policy `P` (note below) lacks `static std::string name()`, which "
                                 "name_of and the benchmark report print");
  return named_policy<P>;
}

}  // namespace detail
}  // namespace alloy
