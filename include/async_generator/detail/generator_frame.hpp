#ifndef ASYNC_GENERATOR_DETAIL_GENERATOR_FRAME_HPP
#define ASYNC_GENERATOR_DETAIL_GENERATOR_FRAME_HPP

#include <async_generator/compat/config.hpp>
#include <async_generator/detail/frame.hpp>
#include <async_generator/detail/initiate.hpp>

#include <utility>

namespace async_generator {
template <class Y, class S>
class context;

namespace detail {

// A frame that knows what its body returns; the body itself is in body_frame.
template <class Y, class S, class R>
class generator_frame : public frame_base {
 public:
  using frame_base::frame_base;

  void aclose_untyped(untyped_close_handler handler) override {
    first_use();
    op_initiation<Y, S, false>(this)(std::move(handler), op_kind::aclose, value_t<S>(), std::exception_ptr());
  }

 protected:
  std::exception_ptr make_stop() override { return make_stop_for(std::is_void<R>()); }

  compat::optional<value_t<R>> returned_;

 private:
  std::exception_ptr make_stop_for(std::true_type) { return std::make_exception_ptr(stop_async_iteration()); }
  std::exception_ptr make_stop_for(std::false_type) {
    if (!returned_) return std::make_exception_ptr(stop_async_iteration());
    value_t<R> r(std::move(*returned_));
    returned_ = compat::nullopt;
    return std::make_exception_ptr(stop_async_iteration(std::move(r)));
  }
};

template <class Y, class S, class R, class Body>
class body_frame final : public generator_frame<Y, S, R> {
 public:
  body_frame(asio::any_io_executor ex, stack_options stack, Body body)
      : generator_frame<Y, S, R>(std::move(ex), stack), body_(std::move(body)) {}

 private:
  // The body's exceptions are caught in the frame that calls it: an aclose's generator_exit unwinds
  // the body's own frames and this one, no more (each frame an exception crosses costs it time).
  body_end run_body() override {
    body_end end;
    try {
      call(std::is_void<R>());
    } catch (const generator_exit&) {  // first: a close's, the one that must be cheap
      end.generator_exit_escaped = true;
      end.error = std::current_exception();
    } catch (const unwind_signal&) {
      end.unwound = true;
    } catch (const compat::forced_unwind&) {
      throw;
    } catch (const stop_async_iteration&) {
      end.stop_escaped = true;
      end.error = std::current_exception();
    } catch (...) {
      end.error = std::current_exception();
    }
    return end;
  }
  void call(std::true_type) { body_(context<Y, S>(this)); }
  void call(std::false_type) { this->returned_.emplace(body_(context<Y, S>(this))); }

  Body body_;
};

}  // namespace detail
}  // namespace async_generator

#endif
