// Portability layer: the one file that includes Asio for the library. It names the Asio in use
// `async_generator::asio` (Boost.Asio's boost::asio, or standalone Asio's asio), its error types
// `async_generator::error_code` and `async_generator::system_error`, and wraps what Asio spells
// differently between its versions or keeps in its detail namespace.
#ifndef ASYNC_GENERATOR_COMPAT_ASIO_HPP
#define ASYNC_GENERATOR_COMPAT_ASIO_HPP

#include <async_generator/compat/config.hpp>

#if ASYNC_GENERATOR_STANDALONE_ASIO
#include <asio/any_io_executor.hpp>
#include <asio/associated_allocator.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/compose.hpp>
#include <asio/defer.hpp>
#include <asio/detail/concurrency_hint.hpp>
#include <asio/detail/handler_cont_helpers.hpp>
#include <asio/detail/recycling_allocator.hpp>
#include <asio/detail/thread_context.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/error_code.hpp>
#include <asio/execution/blocking.hpp>
#include <asio/execution/context.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/execution_context.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <asio/query.hpp>
#include <asio/system_error.hpp>
#include <asio/system_executor.hpp>
#if ASYNC_GENERATOR_HAS_ASIO_CONFIG
#include <asio/config.hpp>
#endif
#if ASYNC_GENERATOR_HAS_CANCELLATION
#include <asio/associated_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_type.hpp>
#endif
// Opens and closes Asio's namespace, for the specialisations of its traits (async_result).
#define ASYNC_GENERATOR_ASIO_NAMESPACE_BEGIN namespace asio {
#define ASYNC_GENERATOR_ASIO_NAMESPACE_END }
#else
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/detail/concurrency_hint.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/detail/recycling_allocator.hpp>
#include <boost/asio/detail/thread_context.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/blocking.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#if ASYNC_GENERATOR_HAS_ASIO_CONFIG
#include <boost/asio/config.hpp>
#endif
#if ASYNC_GENERATOR_HAS_CANCELLATION
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#endif
#define ASYNC_GENERATOR_ASIO_NAMESPACE_BEGIN \
  namespace boost {                          \
  namespace asio {
#define ASYNC_GENERATOR_ASIO_NAMESPACE_END \
  }                                        \
  }
#endif

#include <memory>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace async_generator {

#if ASYNC_GENERATOR_STANDALONE_ASIO
namespace asio = ::asio;
/// The error code of Asio's operations: std::error_code (standalone Asio) or boost::system::error_code.
using error_code = ::asio::error_code;
/// What an error_code is thrown as: std::system_error or boost::system::system_error.
using system_error = ::asio::system_error;
#else
namespace asio = ::boost::asio;
using error_code = ::boost::system::error_code;
using system_error = ::boost::system::system_error;
#endif

namespace compat {

// The io_context executor `ex` wraps, or null. Before Asio 1.26 (Boost 1.81), target<T>() casts
// the target to T without checking its type: a strand would pass for an io_context's executor, and
// work meant for the strand would go to the io_context behind it.
inline const asio::io_context::executor_type* io_executor_of(const asio::any_io_executor& ex) noexcept {
  using io_executor = asio::io_context::executor_type;
#if ASYNC_GENERATOR_HAS_CHECKED_EXECUTOR_TARGET
  return ex.target<io_executor>();
#else
  return ex && ex.target_type() == typeid(io_executor) ? ex.target<io_executor>() : nullptr;
#endif
}

// Names the threads that run an io_context by its scheduler's address, which Asio keeps on each
// such thread's call stack: asking whether this thread is one of them then reads only this thread's
// own records, so it can be asked after the context is gone (running_in_this_thread reads the context).
using thread_key = const asio::detail::thread_context*;
inline thread_key thread_key_of(const asio::io_context::executor_type& ex) noexcept {
  asio::io_context& io = asio::query(ex, asio::execution::context);
  return &asio::use_service<asio::detail::io_context_impl>(io);
}
inline bool runs_here(thread_key key) noexcept {
  return key != nullptr &&
         asio::detail::call_stack<asio::detail::thread_context, asio::detail::thread_info_base>::contains(
             const_cast<asio::detail::thread_context*>(key)) != nullptr;
}

// Whether `context` is made for one thread: an io_context (or thread_pool, whose scheduler is the
// same) with concurrency hint 1, or a hint that turns its scheduler's locking off. Asio then trusts
// that no two threads run it; so do the claims of the generators on it (detail/frame.hpp).
inline bool made_for_one_thread(asio::execution_context& context) {
#if ASYNC_GENERATOR_HAS_ASIO_CONFIG
  // As the scheduler decides it (a hint that turns locking off reads as 1).
  const asio::config settings(context);
  return settings.get("scheduler", "concurrency_hint", 0) == 1 || !settings.get("scheduler", "locking", true);
#else
  using scheduler = asio::detail::io_context_impl;
  if (!asio::has_service<scheduler>(context)) return false;
  const int hint = asio::use_service<scheduler>(context).concurrency_hint();
#if ASYNC_GENERATOR_STANDALONE_ASIO
  return hint == 1 || !ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, hint);
#else
  return hint == 1 || !BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, hint);
#endif
#endif
}

// Asio's own operations allocate through a thread-local recycling cache when the handler has no
// allocator of its own; ours do the same, so steady-state iteration never reaches operator new.
template <class Handler, class T>
using handler_allocator = typename asio::detail::get_recycling_allocator<
    typename std::allocator_traits<asio::associated_allocator_t<Handler>>::template rebind_alloc<T>,
    asio::detail::thread_info_base::default_tag>::type;

template <class Handler, class T>
handler_allocator<Handler, T> get_handler_allocator(const Handler& h) {
  using alloc = typename std::allocator_traits<asio::associated_allocator_t<Handler>>::template rebind_alloc<T>;
  return asio::detail::get_recycling_allocator<alloc, asio::detail::thread_info_base::default_tag>::get(
      alloc(asio::get_associated_allocator(h)));
}

// The operation an io_context's executor allocates, through the function's associated allocator
// `Allocator`, to queue `Function` (asio::post; asio::dispatch from a thread not running the
// context): what a reserve must hold for such a post never to need memory.
#if ASYNC_GENERATOR_ASIO_BINDS_POSTED_FUNCTIONS
template <class Function, class Allocator>
using io_post_operation =
    asio::detail::executor_op<asio::detail::binder0<Function>, Allocator, asio::detail::operation>;
#else
template <class Function, class Allocator>
using io_post_operation = asio::detail::executor_op<Function, Allocator, asio::detail::operation>;
#endif

// Whether `handler` says it continues the handler running now (asio_handler_is_continuation, the
// hook Asio's composed operations set on their intermediate handlers).
template <class Handler>
bool is_continuation(Handler& handler) {
#if ASYNC_GENERATOR_STANDALONE_ASIO
  return asio_handler_cont_helpers::is_continuation(handler);
#else
  return boost_asio_handler_cont_helpers::is_continuation(handler);
#endif
}

// An executor that counts as outstanding work while it exists (Asio's standard-executor spelling,
// which every supported version shares).
template <class Executor>
using tracked_executor_t = typename std::decay<decltype(asio::prefer(
    std::declval<const Executor&>(), asio::execution::outstanding_work.tracked))>::type;

template <class Executor>
tracked_executor_t<Executor> track_work(const Executor& ex) {
  return asio::prefer(ex, asio::execution::outstanding_work.tracked);
}

// Whether asio::post and asio::defer take `Executor`: an executor that can be asked never to block.
// A type-erased handler's any_completion_executor can only be dispatched to.
template <class Executor>
using can_post = std::integral_constant<
    bool, (asio::execution::is_executor<Executor>::value &&
           asio::can_require<Executor, asio::execution::blocking_t::never_t>::value) ||
              asio::is_executor<Executor>::value>;

// The executor of a handler that names none, where nothing else can run it: the system executor,
// Asio's own default until its newer versions made that an inline executor (which cannot be posted to).
template <class Handler>
auto executor_of_handler(const Handler& handler) noexcept {
  return asio::get_associated_executor(handler, asio::system_executor());
}

// Names the Asio a build is for in the signature of a function of the compiled library that every
// program calls (a frame's constructor): a program compiled for the other Asio does not link, and
// the missing symbol names the build of the library it needs.
#if ASYNC_GENERATOR_STANDALONE_ASIO
struct library_built_for_standalone_asio {};
using asio_build = library_built_for_standalone_asio;
#else
struct library_built_for_boost_asio {};
using asio_build = library_built_for_boost_asio;
#endif

}  // namespace compat
}  // namespace async_generator

#endif
