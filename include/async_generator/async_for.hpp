// The `async for` of C++14: a range for fiber code, and async_for_each for callback code.
#ifndef ASYNC_GENERATOR_ASYNC_FOR_HPP
#define ASYNC_GENERATOR_ASYNC_FOR_HPP

#include <async_generator/compat/asio.hpp>
#include <async_generator/compat/config.hpp>
#include <async_generator/errors.hpp>

#include <exception>
#include <iterator>
#include <type_traits>
#include <utility>

namespace async_generator {

/// A single-pass range over what `gen` yields, for code running on a fiber: a generator body
/// (`token` is its `co`) or an `asio::spawn` coroutine (`token` is its `yield_context`). Each step
/// is `gen.anext(token)`; the range ends at `stop_async_iteration`, and any other error is thrown
/// from the increment. Leaving the loop early does not close the generator (as in Python).
template <class Generator, class Token>
class async_range {
 public:
  using value_type = typename Generator::yield_type;
  static_assert(!std::is_void<value_type>::value, "async_range needs a generator that yields values");

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = typename Generator::yield_type;
    using difference_type = std::ptrdiff_t;
    using pointer = value_type*;
    using reference = value_type&;

    iterator() noexcept = default;
    explicit iterator(async_range* range) : range_(range) { ++*this; }

    reference operator*() const { return *range_->current_; }
    pointer operator->() const { return &*range_->current_; }
    iterator& operator++() {
      try {
        range_->current_.emplace(range_->gen_->anext(range_->token_));
      } catch (const stop_async_iteration&) {
        range_->current_ = compat::nullopt;
        range_ = nullptr;
      }
      return *this;
    }
    bool operator==(const iterator& other) const noexcept { return range_ == other.range_; }
    bool operator!=(const iterator& other) const noexcept { return range_ != other.range_; }

   private:
    async_range* range_ = nullptr;
  };

  async_range(Generator& gen, Token token) : gen_(&gen), token_(std::move(token)) {}
  iterator begin() { return iterator(this); }
  iterator end() noexcept { return iterator(); }

 private:
  Generator* gen_;
  Token token_;
  compat::optional<value_type> current_;
};

/// `for (auto& x : aiter(gen, co)) ...` — Python's `async for x in gen:` in fiber code.
template <class Generator, class Token>
async_range<Generator, typename std::decay<Token>::type> aiter(Generator& gen, Token&& token) {
  return async_range<Generator, typename std::decay<Token>::type>(gen, std::forward<Token>(token));
}

namespace detail {

template <class Generator, class Function, class Handler>
class for_each_op {
 public:
  // The steps run on the generator's executor; only the final handler goes to its own, which has
  // work for the whole iteration.
  using executor_type = typename Generator::executor_type;
  using allocator_type = asio::associated_allocator_t<Handler>;

  for_each_op(Generator& gen, Function fn, Handler handler)
      : gen_(&gen),
        fn_(std::move(fn)),
        handler_(std::move(handler)),
        work_(compat::track_work(asio::get_associated_executor(handler_, gen.get_executor()))) {}

  executor_type get_executor() const { return gen_->get_executor(); }
  allocator_type get_allocator() const noexcept { return asio::get_associated_allocator(handler_); }

  template <class... Value>
  void operator()(std::exception_ptr e, Value&&... value) {
    if (e) {
      complete(is_stop(e) ? std::exception_ptr() : e);
      return;
    }
    try {
      fn_(std::forward<Value>(value)...);
    } catch (...) {
      complete(std::current_exception());
      return;
    }
    Generator& gen = *gen_;
    gen.anext(std::move(*this));
  }

 private:
  void complete(std::exception_ptr e) {
    auto work = std::move(work_);
    asio::dispatch(work, [handler = std::move(handler_), e]() mutable { std::move(handler)(e); });
  }

  Generator* gen_;
  Function fn_;
  Handler handler_;
  compat::tracked_executor_t<asio::associated_executor_t<Handler, typename Generator::executor_type>> work_;
};

template <class Generator>
struct for_each_initiation {
  Generator* gen;
  using executor_type = typename Generator::executor_type;
  executor_type get_executor() const { return gen->get_executor(); }
  template <class Handler, class Function>
  void operator()(Handler&& handler, Function&& fn) const {
    using op = for_each_op<Generator, typename std::decay<Function>::type, typename std::decay<Handler>::type>;
    gen->anext(op(*gen, std::forward<Function>(fn), std::forward<Handler>(handler)));
  }
};

}  // namespace detail

/// Python's `async for x in gen: fn(x)` for callback code: calls `fn` with each value `gen` yields,
/// then completes. Completion signature: `void(std::exception_ptr)`: null at the end of iteration,
/// else the error the generator (or `fn`) raised. The generator must outlive the operation. `fn`
/// runs on the generator's executor; the handler runs on its associated executor, which counts as
/// outstanding work for the whole iteration.
template <class Generator, class Function, class CompletionToken = asio::default_completion_token_t<typename Generator::executor_type>>
auto async_for_each(Generator& gen, Function&& fn, CompletionToken&& token = asio::default_completion_token_t<typename Generator::executor_type>()) {
  return asio::async_initiate<CompletionToken, void(std::exception_ptr)>(
      detail::for_each_initiation<Generator>{&gen}, token, std::forward<Function>(fn));
}

}  // namespace async_generator

#endif
