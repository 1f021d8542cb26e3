// yield_from_, Python's `await yield_from_(delegate)` (PEP 380 with aclose for close):
// async_generator 1.10's own yield_from_ tests (test_async_yield_from_* and test_yield_from_*),
// delegation to plain async iterator classes and across yield types, ag_await, yield_from_ in a
// helper function, a delegate shared or operated on directly, and the three kinds of consumer of a
// chain. PEP 380 through chains of depth 1 to 3: test_yield_from_chains.cpp.
//
// test_yield_from_with_old_style_aiter has no twin: C++ has no __aiter__ protocol, let alone an
// awaitable-returning one; yield_from_ uses its delegate as it is given.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

// Python's Countdown without aclose: an async iterator class, not a generator. anext completes
// (posted, as an await would) with count - 1, ..., 0, then with stop_async_iteration("boom").
class countdown_without_aclose {
 public:
  countdown_without_aclose(asio::any_io_executor ex, int count) : ex_(std::move(ex)), count_(count) {}

  template <class Token>
  auto anext(Token&& token) {
    return asio::async_initiate<Token, void(std::exception_ptr, int)>(
        [this](auto handler) {
          const int v = --count_;
          std::exception_ptr e;
          if (v < 0) e = std::make_exception_ptr(ag::stop_async_iteration(std::string("boom")));
          asio::post(ex_, [h = std::move(handler), e, v]() mutable { std::move(h)(e, v); });
        },
        token);
  }

 protected:
  asio::any_io_executor ex_;

 private:
  int count_;
};

// Python's Countdown: with an aclose, which records "countdown closed" when it completes.
class countdown : public countdown_without_aclose {
 public:
  countdown(asio::any_io_executor ex, int count, std::vector<std::string>& events)
      : countdown_without_aclose(std::move(ex), count), events_(&events) {}

  template <class Token>
  auto aclose(Token&& token) {
    return asio::async_initiate<Token, void(std::exception_ptr)>(
        [this](auto handler) {
          asio::post(ex_, [this, h = std::move(handler)]() mutable {
            events_->push_back("countdown closed");
            std::move(h)(std::exception_ptr());
          });
        },
        token);
  }

 private:
  std::vector<std::string>* events_;
};

ag::async_generator<int> async_range_twice(asio::io_context& io, int count) {
  return ag::make_async_generator<int>(io, [&io, count](ag::context<int> co) {
    ag::yield_from_(co, async_range(io, count));
    ag::yield_(co);
    ag::yield_from_(co, async_range(io, count));
  });
}

// Python's yield_from_countdown of test_yield_from_non_generator: returns whatever ended the
// delegation by an exception (Python's `except BaseException as e: ... return e`).
ag::async_generator<int, void, std::exception_ptr> yield_from_countdown(asio::io_context& io, int count,
                                                                        std::vector<std::string>& happenings,
                                                                        std::string& returned) {
  return ag::make_async_generator<int, void, std::exception_ptr>(io, [=, &happenings, &returned](ag::context<int> co) {
    countdown c(co.get_executor(), count, happenings);
    try {
      returned = ag::yield_from_<std::string>(co, c);
      return std::exception_ptr();
    } catch (const ag::generator_exit&) {
      happenings.push_back("raise");
      return std::current_exception();
    } catch (const std::exception&) {
      happenings.push_back("raise");
      return std::current_exception();
    }
  });
}

// The return value carried by the end of iteration `e`, when it is an exception_ptr.
std::exception_ptr returned_exception(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const ag::stop_async_iteration& s) {
    return s.value<std::exception_ptr>();
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

TEST_CASE("test_async_yield_from_: yield_from_, a yield, yield_from_ again give 0 1 2 0 0 1 2") {
  asio::io_context io;
  auto g = async_range_twice(io, 3);
  CHECK(collect(io, g) == std::vector<int>{0, 1, 2, 0, 0, 1, 2});
  // One level up, the chain links to each of the two delegates in turn.
  auto outer = ag::make_async_generator<int>(io, [&](ag::context<int> co) { ag::yield_from_(co, async_range_twice(io, 2)); });
  CHECK(collect(io, outer) == std::vector<int>{0, 1, 0, 0, 1});
}

TEST_CASE("test_async_yield_from_: a delegate on another executor is driven through handlers, with the same values") {
  // The Python test delegates to a native generator, another kind of object than the delegating
  // one; here there is one kind of generator, and the delegate that is not driven directly is one
  // on another executor (plain async iterator classes: test_yield_from_non_generator).
  asio::io_context io;
  auto strand = asio::make_strand(io);
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    auto inner = ag::make_async_generator<int>(strand, [&](ag::context<int> ico) {
      for (int i = 0; i < 3; ++i) {
        CHECK(strand.running_in_this_thread());
        ag::yield_(ico, i);
      }
    });
    ag::yield_from_(co, inner);
  });
  CHECK(collect(io, g) == std::vector<int>{0, 1, 2});
}

TEST_CASE("test_async_yield_from_asend: asend values reach the delegate's yield_") {
  asio::io_context io;
  std::vector<std::string> log;
  auto doubles_sends = [&](int value) {
    return ag::make_async_generator<int, int>(io, [&log, value](ag::context<int, int> co) mutable {
      try {
        for (;;) {
          auto sent = ag::yield_(co, 2 * value);
          value = sent ? *sent : -1000;
        }
      } catch (const ag::generator_exit&) {
        log.push_back("doubles_sends closed");
        throw;
      }
    });
  };
  auto gen = ag::make_async_generator<int, int>(io, [&](ag::context<int, int> co) { ag::yield_from_(co, doubles_sends(10)); });
  CHECK(text_of(anext(io, gen)) == "20");
  CHECK(text_of(asend(io, gen, 2)) == "4");
  CHECK(text_of(asend(io, gen, 5)) == "10");
  CHECK(text_of(asend(io, gen, 0)) == "0");
  CHECK(error_text(aclose(io, gen)) == "ok");
  CHECK(log == std::vector<std::string>{"doubles_sends closed"});
}

TEST_CASE("test_async_yield_from_athrow: an exception thrown in while delegating propagates out of both") {
  asio::io_context io;
  auto gen = async_range_twice(io, 2);
  CHECK(text_of(anext(io, gen)) == "0");
  CHECK(text_of(athrow(io, gen, std::invalid_argument("oops"))) == "oops");
  CHECK(text_of(anext(io, gen)) == "stop");
}

TEST_CASE("test_async_yield_from_return_value: yield_from_ returns the delegate's return value") {
  asio::io_context io;
  auto returns_1 = [&] {
    return ag::make_async_generator<int, void, int>(io, [](ag::context<int> co) {
      ag::yield_(co, 0);
      return 1;
    });
  };
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) { ag::yield_(co, ag::yield_from_(co, returns_1())); });
  CHECK(collect(io, g) == std::vector<int>{0, 1});
}

TEST_CASE("test_yield_from_empty: a delegate that returns without yielding: nothing is yielded, its value returned") {
  asio::io_context io;
  std::string returned;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    returned = ag::yield_from_(co, ag::make_async_generator<int, void, std::string>(
                                       io, [](ag::context<int>) { return std::string("done"); }));
  });
  CHECK(collect(io, g).empty());
  CHECK(returned == "done");
}

TEST_CASE("test_yield_from_non_generator: a plain async iterator class: values, return value, athrow, aclose") {
  asio::io_context io;
  std::vector<std::string> h;
  std::string returned;

  // The values, then yield_from_ returns the value of the countdown's end of iteration.
  auto all = yield_from_countdown(io, 3, h, returned);
  CHECK(collect(io, all) == std::vector<int>{2, 1, 0});
  CHECK(returned == "boom");
  CHECK(h.empty());

  // athrow: the countdown has none, so the exception is raised in the delegating body.
  auto thrown_in = yield_from_countdown(io, 3, h, returned);
  CHECK(text_of(anext(io, thrown_in)) == "2");
  const std::exception_ptr exc = std::make_exception_ptr(std::invalid_argument("x"));
  outcome<int> o = complete(io, [&](auto handler) { thrown_in.athrow(exc, handler); });
  REQUIRE(is_stop(o.error));
  CHECK(returned_exception(o.error) == exc);
  CHECK(h == std::vector<std::string>{"raise"});

  // aclose closes the countdown first, then raises generator_exit in the body.
  h.clear();
  auto closed = yield_from_countdown(io, 3, h, returned);
  CHECK(text_of(anext(io, closed)) == "2");
  CHECK(error_text(aclose(io, closed)) == "ok");
  CHECK(h == std::vector<std::string>{"countdown closed", "raise"});

  // athrow(generator_exit) closes the countdown with aclose too; the body returns.
  h.clear();
  auto exited = yield_from_countdown(io, 3, h, returned);
  CHECK(text_of(anext(io, exited)) == "2");
  outcome<int> end = athrow(io, exited, ag::generator_exit());
  REQUIRE(is_stop(end.error));
  CHECK(error_text(returned_exception(end.error)) == "generator_exit");
  CHECK(h == std::vector<std::string>{"countdown closed", "raise"});
}

TEST_CASE("test_yield_from_non_generator_with_no_aclose: aclose of the delegating generator still succeeds") {
  asio::io_context io;
  auto yield_from_countdown = [&](int count) {
    return ag::make_async_generator<int, void, std::string>(io, [count](ag::context<int> co) {
      countdown_without_aclose c(co.get_executor(), count);
      return ag::yield_from_<std::string>(co, c);
    });
  };
  auto all = yield_from_countdown(3);
  for (int v : {2, 1, 0}) CHECK(text_of(anext(io, all)) == std::to_string(v));
  CHECK(text_of<std::string>(anext(io, all)) == "stop boom");

  auto closed = yield_from_countdown(3);
  CHECK(text_of(anext(io, closed)) == "2");
  CHECK(text_of(anext(io, closed)) == "1");
  CHECK(error_text(aclose(io, closed)) == "ok");
  CHECK(text_of(anext(io, closed)) == "stop");
}

TEST_CASE("test_yield_from_athrow_raises_StopAsyncIteration: a delegate's athrow that ends it ends the delegation") {
  using result = std::pair<std::string, std::exception_ptr>;
  asio::io_context io;
  auto catch_ = [&] {
    return ag::make_async_generator<std::string, void, result>(io, [](ag::context<std::string> co) {
      try {
        for (;;) ag::yield_(co, std::string("hi"));
      } catch (const std::exception&) {
        return result("bye", std::current_exception());
      }
    });
  };
  auto agen = ag::make_async_generator<std::string, void, result>(
      io, [&](ag::context<std::string> co) { return ag::yield_from_(co, catch_()); });
  std::vector<std::string> got;
  std::exception_ptr end;
  auto record = [&](std::exception_ptr e, std::string v) {
    got.push_back(e ? "error" : v);
    end = e;
  };
  agen.anext(record);
  io.run();
  agen.anext(record);
  io.restart();
  io.run();
  const std::exception_ptr thrown = std::make_exception_ptr(std::invalid_argument("oops"));
  agen.athrow(thrown, record);
  io.restart();
  io.run();
  CHECK(got == std::vector<std::string>{"hi", "hi", "error"});
  REQUIRE(is_stop(end));
  try {
    std::rethrow_exception(end);
  } catch (const ag::stop_async_iteration& caught) {
    CHECK(caught.value<result>().first == "bye");
    CHECK(caught.value<result>().second == thrown);
  }
}

TEST_CASE("yield_from_ to a plain async iterator through a generator chain: values, return value, aclose; asend has no asend to go to") {
  struct countdown_chain {
    explicit countdown_chain(asio::io_context& io) : c(io.get_executor(), 3, events) {
      mid = ag::make_async_generator<int, int, std::string>(
          io, [this](ag::context<int, int> co) { return ag::yield_from_<std::string>(co, c); });
      outer = ag::make_async_generator<int, int, std::string>(
          io, [this](ag::context<int, int> co) { return ag::yield_from_(co, mid) + "!"; });
    }
    std::vector<std::string> events;
    countdown c;
    ag::async_generator<int, int, std::string> mid, outer;
  };
  asio::io_context io;
  countdown_chain all(io);
  for (int v : {2, 1, 0}) CHECK(text_of(anext(io, all.outer)) == std::to_string(v));
  CHECK(text_of<std::string>(anext(io, all.outer)) == "stop boom!");
  CHECK(all.events.empty());

  countdown_chain closed(io);
  CHECK(text_of(anext(io, closed.outer)) == "2");
  CHECK(error_text(aclose(io, closed.outer)) == "ok");
  CHECK(closed.events == std::vector<std::string>{"countdown closed"});

  countdown_chain sent(io);
  CHECK(text_of(anext(io, sent.outer)) == "2");
  CHECK(text_of(asend(io, sent.outer, 5)) == "yield_from_: a value was sent and the delegate has no asend");
  CHECK(text_of(anext(io, sent.outer)) == "stop");
  CHECK(sent.events.empty());
}

namespace {

// outer (yielding and sent O) delegates to mid (M), mid to leaf (L): where the types differ
// yield_from_ takes the generic path, where they agree it goes straight to the delegate. The leaf
// waits 1 ms before each yield; it yields 20, then twice what it is sent, -2 after an out_of_range,
// and returns its value on anext; outer yields a thousand times what yield_from_ returned, and
// returns it. Each logs generator_exit.
template <class O, class M, class L>
struct three_chain {
  explicit three_chain(asio::io_context& io) {
    leaf = ag::make_async_generator<L, L, int>(io, [this](ag::context<L, L> co) -> int {
      L v = 10;
      asio::steady_timer timer(co.get_executor());
      try {
        for (;;) {
          timer.expires_after(std::chrono::milliseconds(1));
          timer.async_wait(co);
          try {
            auto s = ag::yield_(co, 2 * v);
            if (!s) return static_cast<int>(v);
            v = *s;
          } catch (const std::out_of_range&) {
            v = -1;
          }
        }
      } catch (const ag::generator_exit&) {
        log.push_back("leaf exit");
        throw;
      }
    });
    mid = ag::make_async_generator<M, M, int>(io, [this](ag::context<M, M> co) { return logged(co, leaf, "mid exit"); });
    outer = ag::make_async_generator<O, O, int>(io, [this](ag::context<O, O> co) {
      const int r = logged(co, mid, "outer exit");
      ag::yield_(co, static_cast<O>(r) * 1000);
      return r;
    });
  }
  template <class Co, class D>
  int logged(const Co& co, D& delegate, const char* on_exit) {
    try {
      return ag::yield_from_(co, delegate);
    } catch (const ag::generator_exit&) {
      log.push_back(on_exit);
      throw;
    }
  }
  std::vector<std::string> log;
  ag::async_generator<L, L, int> leaf;  // destroyed last
  ag::async_generator<M, M, int> mid;
  ag::async_generator<O, O, int> outer;
};

template <class O, class M, class L>
void check_three_chain() {
  asio::io_context io;
  three_chain<O, M, L> ch(io);
  CHECK(text_of(anext(io, ch.outer)) == "20");
  CHECK(text_of(asend(io, ch.outer, 3)) == "6");
  CHECK(text_of(athrow(io, ch.outer, std::out_of_range("x"))) == "-2");
  CHECK(text_of(anext(io, ch.outer)) == "-1000");
  CHECK(text_of(anext(io, ch.outer)) == "stop -1");
  CHECK(ch.log.empty());

  three_chain<O, M, L> closed(io);
  CHECK(text_of(anext(io, closed.outer)) == "20");
  CHECK(error_text(aclose(io, closed.outer)) == "ok");
  CHECK(closed.log == std::vector<std::string>{"leaf exit", "mid exit", "outer exit"});
}

}  // namespace

TEST_CASE("yield_from_ across yield types: long over int over int, and int over int over long, forward every operation") {
  SUBCASE("long generator → int generator → int generator") { check_three_chain<long, int, int>(); }
  SUBCASE("int generator → int generator → long generator") { check_three_chain<int, int, long>(); }
}

TEST_CASE("ag_await<D>() is the delegate while delegating, null before, after, and for another type") {
  // outer → mid is the direct path (the same types), mid → countdown the generic one.
  using mid_type = ag::async_generator<int, void, std::string>;
  asio::io_context io;
  std::vector<std::string> events;
  countdown c(io.get_executor(), 3, events);
  mid_type mid = ag::make_async_generator<int, void, std::string>(io, [&c](ag::context<int> co) {
    return ag::yield_from_<std::string>(co, c);
  });
  auto outer = ag::make_async_generator<int, void, std::string>(io, [&](ag::context<int> co) {
    std::string r = ag::yield_from_(co, mid);
    ag::yield_(co, -1);
    return r;
  });
  CHECK(outer.ag_await<mid_type>() == nullptr);
  CHECK(mid.ag_await<countdown>() == nullptr);
  for (int v : {2, 1, 0}) {
    CHECK(text_of(anext(io, outer)) == std::to_string(v));
    const mid_type* delegate = outer.ag_await<mid_type>();  // the chain can be walked
    REQUIRE(delegate == &mid);
    CHECK(delegate->ag_await<countdown>() == &c);
    CHECK(outer.ag_await<countdown>() == nullptr);
    CHECK(mid.ag_await<mid_type>() == nullptr);
  }
  CHECK(text_of(anext(io, outer)) == "-1");
  CHECK(outer.ag_await<mid_type>() == nullptr);
  CHECK(mid.ag_await<countdown>() == nullptr);
  CHECK(text_of<std::string>(anext(io, outer)) == "stop boom");
}

namespace {

// Python's yield_ and yield_from_ in a nested helper coroutine: an ordinary function given `co`.
int yield_then_delegate(const ag::context<int, int>& co, ag::async_generator<int, int, int>& delegate) {
  auto sent = ag::yield_(co, -1);
  return ag::yield_from_(co, delegate) + (sent ? *sent : 0);
}

}  // namespace

TEST_CASE("yield_ and yield_from_ in a helper function the body passes its co to") {
  asio::io_context io;
  auto inner = ag::make_async_generator<int, int, int>(io, [](ag::context<int, int> co) {
    int v = 1;
    for (;;) {
      auto s = ag::yield_(co, v);
      if (!s) return v;
      v = 2 * *s;
    }
  });
  auto g = ag::make_async_generator<int, int>(io, [&](ag::context<int, int> co) { ag::yield_(co, yield_then_delegate(co, inner)); });
  CHECK(text_of(anext(io, g)) == "-1");
  CHECK(text_of(asend(io, g, 10)) == "1");
  CHECK(text_of(asend(io, g, 3)) == "6");
  CHECK(text_of(anext(io, g)) == "16");
  CHECK(text_of(anext(io, g)) == "stop");
}

TEST_CASE("aclose or athrow directly on a delegate between operations on its delegating generator, as in async_generator 1.10") {
  // The delegating generator's next anext finds its delegate finished: yield_from_ returns R()
  // (Python's None), and the outer yields 0 * 1000.
  asio::io_context io;
  three_chain<int, int, int> closed(io);
  CHECK(text_of(anext(io, closed.outer)) == "20");
  CHECK(error_text(aclose(io, closed.mid)) == "ok");
  CHECK(closed.log == std::vector<std::string>{"leaf exit", "mid exit"});
  CHECK(text_of(anext(io, closed.outer)) == "0");
  CHECK(text_of(anext(io, closed.outer)) == "stop 0");

  three_chain<int, int, int> thrown(io);
  CHECK(text_of(anext(io, thrown.outer)) == "20");
  CHECK(text_of(athrow(io, thrown.mid, std::invalid_argument("y"))) == "y");
  CHECK(text_of(anext(io, thrown.leaf)) == "stop");
  CHECK(text_of(anext(io, thrown.outer)) == "0");
  CHECK(text_of(anext(io, thrown.outer)) == "stop 0");
  CHECK(thrown.log.empty());
}

TEST_CASE("two generators delegating to one delegate take turns with it, as in async_generator 1.10") {
  asio::io_context io;
  auto shared = ag::make_async_generator<int, void, int>(io, [](ag::context<int> co) {
    for (int i = 0; i < 5; ++i) ag::yield_(co, i);
    return 9;
  });
  auto delegating = [&](int tag) {
    return ag::make_async_generator<int, void, int>(io, [&shared, tag](ag::context<int> co) {
      const int r = ag::yield_from_(co, shared);
      ag::yield_(co, tag);
      return r;
    });
  };
  auto a = delegating(100), b = delegating(200);
  std::vector<std::string> got;
  for (char which : std::string("abababaabb")) got.push_back(text_of(anext(io, which == 'a' ? a : b)));
  // The one that meets the end gets the return value; the other an empty end (Python's None).
  CHECK(got == std::vector<std::string>{"0", "1", "2", "3", "4", "200", "100", "stop 0", "stop 9", "stop"});
}

// --- A depth-2 chain (three_chain<int, int, int>: the direct path) and its three kinds of consumer
namespace {

using int_chain = three_chain<int, int, int>;

// On chain a: anext, asend(3), athrow(out_of_range: caught), aclose; on chain b: anext,
// athrow(invalid_argument: uncaught, it ends every level), anext.
const std::vector<std::string> consumer_script = {"20", "6", "-2", "ok", "20", "y", "stop"};
const std::vector<std::string> closed_log = {"leaf exit", "mid exit", "outer exit"};

template <class F>
std::string attempt(F f) {
  try {
    return f();
  } catch (const std::exception&) {
    return error_text(std::current_exception());
  } catch (const ag::generator_exit&) {
    return error_text(std::current_exception());
  }
}

// consumer_script through a fiber's token: a generator body's co or an asio::spawn yield_context.
template <class Token>
std::vector<std::string> run_consumer_script(int_chain& a, int_chain& b, const Token& token) {
  const auto oor = std::make_exception_ptr(std::out_of_range("x"));
  const auto invalid = std::make_exception_ptr(std::invalid_argument("y"));
  return {attempt([&] { return std::to_string(a.outer.anext(token)); }),
          attempt([&] { return std::to_string(a.outer.asend(3, token)); }),
          attempt([&] { return std::to_string(a.outer.athrow(oor, token)); }),
          attempt([&] {
            a.outer.aclose(token);
            return std::string("ok");
          }),
          attempt([&] { return std::to_string(b.outer.anext(token)); }),
          attempt([&] { return std::to_string(b.outer.athrow(invalid, token)); }),
          attempt([&] { return std::to_string(b.outer.anext(token)); })};
}

}  // namespace

TEST_CASE("a depth-2 yield_from_ chain consumed by callbacks, each operation started from the previous one's handler") {
  using done_fn = std::function<void(std::string)>;
  asio::io_context io;
  int_chain a(io), b(io);
  auto next_of = [](int_chain& c) { return [&c](done_fn done) { c.outer.anext([done](std::exception_ptr e, int v) { done(text_of(e, v)); }); }; };
  std::vector<std::function<void(done_fn)>> steps = {
      next_of(a),
      [&](done_fn done) { a.outer.asend(3, [done](std::exception_ptr e, int v) { done(text_of(e, v)); }); },
      [&](done_fn done) {
        a.outer.athrow(std::make_exception_ptr(std::out_of_range("x")), [done](std::exception_ptr e, int v) { done(text_of(e, v)); });
      },
      [&](done_fn done) { a.outer.aclose([done](std::exception_ptr e) { done(error_text(e)); }); },
      next_of(b),
      [&](done_fn done) {
        b.outer.athrow(std::make_exception_ptr(std::invalid_argument("y")), [done](std::exception_ptr e, int v) { done(text_of(e, v)); });
      },
      next_of(b)};
  std::vector<std::string> got;
  std::function<void()> run_next = [&] {
    if (got.size() < steps.size()) steps[got.size()]([&](std::string r) {
        got.push_back(std::move(r));
        run_next();
      });
  };
  run_next();
  io.run();
  CHECK(got == consumer_script);
  CHECK(a.log == closed_log);
  CHECK(b.log.empty());
}

TEST_CASE("a depth-2 yield_from_ chain consumed by another generator's body through its co") {
  asio::io_context io;
  int_chain a(io), b(io);
  std::vector<std::string> got;
  auto consumer = ag::make_async_generator<int>(io, [&](ag::context<int> co) { got = run_consumer_script(a, b, co); });
  CHECK(text_of(anext(io, consumer)) == "stop");
  CHECK(got == consumer_script);
  CHECK(a.log == closed_log);
  CHECK(b.log.empty());
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
TEST_CASE("a depth-2 yield_from_ chain consumed by an asio::spawn coroutine") {
  asio::io_context io;
  int_chain a(io), b(io);
  std::vector<std::string> got;
  run_spawned(io, [&](asio::yield_context yield) { got = run_consumer_script(a, b, yield); });
  CHECK(got == consumer_script);
  CHECK(a.log == closed_log);
  CHECK(b.log.empty());
}
#endif

namespace {
// A generator whose cleanup, after catching generator_exit, delegates to a generator that yields.
ag::async_generator<int> delegating_in_cleanup(asio::io_context& io) {
  return ag::make_async_generator<int>(io, [&io](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (const ag::generator_exit&) {
      ag::yield_from_(co, async_range(io, 3));
    }
  });
}
}  // namespace

TEST_CASE("aclose fails with 'async generator ignored GeneratorExit' when the cleanup's yield_from_ yields, as a yield_ there does") {
  asio::io_context io;
  auto g = delegating_in_cleanup(io);
  CHECK(anext(io, g).value == 1);
  CHECK(message_of<ag::runtime_error>(aclose(io, g)) == "async generator ignored GeneratorExit");
  CHECK(anext(io, g).value == 1);  // the delegation goes on with its next item, as in Python
}

TEST_CASE("a synchronous close whose cleanup's yield_from_ yields reports 'async generator ignored GeneratorExit' and unwinds") {
  sync_close_context io;
  unraisable_log log;
  {
    auto g = delegating_in_cleanup(io);
    CHECK(anext(io, g).value == 1);
  }
  CHECK(log.entries == std::vector<std::string>{"RuntimeError: async generator ignored GeneratorExit"});
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
TEST_CASE("an asio::spawn consumer's operation that awaits in a delegate, then in the delegating body after the delegate ended, completes") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [&io](ag::context<int> co) {
    ag::yield_from_(co, ag::make_async_generator<int>(io, [](ag::context<int> inner) {
      ag::yield_(inner, 9);
      asio::post(inner);
    }));
    asio::post(co);
  });
  std::vector<std::string> events;
  asio::spawn(io, [&](asio::yield_context yield) {
    events.push_back(std::to_string(g.anext(yield)));
    try {
      g.anext(yield);
    } catch (const ag::stop_async_iteration&) {
      events.push_back("stop");
    }
  }, asio::detached);
  io.run();
  CHECK(events == std::vector<std::string>{"9", "stop"});
}
#endif
