// Portability layer: Asio facilities whose spelling differs between Boost 1.74 and 1.81.
#ifndef ASYNC_GENERATOR_COMPAT_ASIO_HPP
#define ASYNC_GENERATOR_COMPAT_ASIO_HPP

#include <async_generator/compat/config.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/detail/recycling_allocator.hpp>
#if ASYNC_GENERATOR_HAS_CANCELLATION
#include <boost/asio/associated_cancellation_slot.hpp>
#endif
#include <boost/asio/io_context.hpp>

#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace async_generator {
namespace compat {

// The io_context executor `ex` wraps, or null. Before Boost 1.81 (Asio 1.26), target<T>() casts
// the target to T without checking its type: a strand would pass for an io_context's executor, and
// work meant for the strand would go to the io_context behind it.
inline const boost::asio::io_context::executor_type* io_executor_of(const boost::asio::any_io_executor& ex) noexcept {
  using io_executor = boost::asio::io_context::executor_type;
#if ASYNC_GENERATOR_HAS_CHECKED_EXECUTOR_TARGET
  return ex.target<io_executor>();
#else
  return ex && ex.target_type() == typeid(io_executor) ? ex.target<io_executor>() : nullptr;
#endif
}

// Asio's own operations allocate through a thread-local recycling cache when the handler has no
// allocator of its own; ours do the same, so steady-state iteration never reaches operator new.
template <class Handler, class T>
using handler_allocator = typename boost::asio::detail::get_recycling_allocator<
    typename std::allocator_traits<boost::asio::associated_allocator_t<Handler>>::template rebind_alloc<T>,
    boost::asio::detail::thread_info_base::default_tag>::type;

template <class Handler, class T>
handler_allocator<Handler, T> get_handler_allocator(const Handler& h) {
  using alloc = typename std::allocator_traits<boost::asio::associated_allocator_t<Handler>>::template rebind_alloc<T>;
  return boost::asio::detail::get_recycling_allocator<alloc, boost::asio::detail::thread_info_base::default_tag>::get(
      alloc(boost::asio::get_associated_allocator(h)));
}

// An executor that counts as outstanding work while it exists (Asio's standard-executor spelling,
// which Boost 1.74 and 1.81 share).
template <class Executor>
using tracked_executor_t = typename std::decay<decltype(boost::asio::prefer(
    std::declval<const Executor&>(), boost::asio::execution::outstanding_work.tracked))>::type;

template <class Executor>
tracked_executor_t<Executor> track_work(const Executor& ex) {
  return boost::asio::prefer(ex, boost::asio::execution::outstanding_work.tracked);
}

}  // namespace compat
}  // namespace async_generator

#endif
