// PEP 380's formal semantics (with aclose for close) through yield_from_ chains of this library's
// generators, of depth 1 to 3: the same yield and send types on one io_context, where anext and
// asend go straight to the innermost generator. Each case runs at every depth. Where the outcome
// was not obvious it was checked against async_generator 1.10 (Debian's python3-async-generator),
// whose messages differ only where the project follows native CPython 3.13 (its "…already running"
// RuntimeError for the package's ValueError "async generator already executing").
// Mixed chains, ag_await, and the consumers of a chain: test_yield_from.cpp.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using gen = ag::async_generator<int, int, int>;
using ctx = ag::context<int, int>;
using leaf_body = std::function<int(const ctx&)>;
using level_body = std::function<int(const ctx&, int level, gen& delegate)>;

int delegate_and_return(const ctx& co, int, gen& delegate) { return ag::yield_from_(co, delegate); }

// gens[0] delegates with yield_from_ to gens[1], ..., gens[depth - 1] to gens[depth], the leaf.
class chain {
 public:
  chain(asio::io_context& io, int depth, leaf_body leaf, level_body level = delegate_and_return) : gens_(depth + 1) {
    gens_[depth] = ag::make_async_generator<int, int, int>(io, [leaf](ctx co) { return leaf(co); });
    for (int i = 0; i < depth; ++i) {
      gens_[i] = ag::make_async_generator<int, int, int>(io, [this, i, level](ctx co) { return level(co, i, gens_[i + 1]); });
    }
  }
  chain(const chain&) = delete;
  chain& operator=(const chain&) = delete;
  ~chain() {
    for (gen& g : gens_) g = gen();  // outermost first: no generator outlives its delegating one
  }
  gen& operator[](int i) { return gens_[i]; }
  gen& outer() { return gens_.front(); }
  int depth() const { return static_cast<int>(gens_.size()) - 1; }
  // ag_running of each generator, outermost first: 'R' running, '-' not.
  std::string running() const {
    std::string s;
    for (const gen& g : gens_) s += g.ag_running() ? 'R' : '-';
    return s;
  }
  // Every generator of the chain is finished: anext gives an empty end of iteration.
  void check_all_finished(asio::io_context& io) {
    for (int i = 0; i <= depth(); ++i) {
      CAPTURE(i);
      CHECK(text_of(anext(io, gens_[i])) == "stop");
    }
  }

 private:
  std::vector<gen> gens_;
};

std::string level_name(int i) { return "L" + std::to_string(i); }

// "L<depth-1> <what>", ..., "L0 <what>": what each level logs, innermost first.
std::vector<std::string> outward(int depth, const std::string& what) {
  std::vector<std::string> v;
  for (int i = depth - 1; i >= 0; --i) v.push_back(level_name(i) + " " + what);
  return v;
}
std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A level that logs "L<i> exit" when generator_exit is raised at its yield_from_, "L<i> <message>"
// for any other exception.
level_body logging_level(std::vector<std::string>& log) {
  return [&log](const ctx& co, int i, gen& d) {
    try {
      return ag::yield_from_(co, d);
    } catch (const ag::generator_exit&) {
      log.push_back(level_name(i) + " exit");
      throw;
    } catch (const std::exception& e) {
      log.push_back(level_name(i) + " " + e.what());
      throw;
    }
  };
}

// A leaf that yields 0 and, closed there, logs "leaf cleanup", runs `cleanup` and lets
// generator_exit out; a lifetime guard shows its stack unwound.
leaf_body closing_leaf(std::vector<std::string>& log, std::function<void(const ctx&)> cleanup = nullptr) {
  return [&log, cleanup](const ctx& co) {
    lifetime guard;
    try {
      ag::yield_(co, 0);
    } catch (const ag::generator_exit&) {
      log.push_back("leaf cleanup");
      if (cleanup) cleanup(co);
      throw;
    }
    return 0;
  };
}

}  // namespace

TEST_CASE("yield_from_ chains: values come out in order, asend values reach the innermost yield_, its return value climbs") {
  for (int depth = 1; depth <= 3; ++depth) {
    CAPTURE(depth);
    asio::io_context io;
    std::vector<std::string> sent;
    chain ch(io, depth, [&](const ctx& co) {
      int last = 0;
      for (int i = 0; i < 3; ++i) {
        auto s = ag::yield_(co, 10 * i + last);
        sent.push_back(s ? std::to_string(*s) : "none");
        last = s ? *s : 0;
      }
      return 99;
    });
    CHECK(text_of(anext(io, ch.outer())) == "0");
    for (int i = 0; i < depth; ++i) CHECK(ch[i].ag_await<gen>() == &ch[i + 1]);
    CHECK(ch[depth].ag_await<gen>() == nullptr);
    CHECK(text_of(asend(io, ch.outer(), 5)) == "15");
    CHECK(text_of(anext(io, ch.outer())) == "20");
    CHECK(text_of(asend(io, ch.outer(), 7)) == "stop 99");
    CHECK(sent == std::vector<std::string>{"5", "none", "7"});
    for (int i = 0; i <= depth; ++i) CHECK(ch[i].ag_await<gen>() == nullptr);
    ch.check_all_finished(io);
  }
}

TEST_CASE("yield_from_ chains: athrow reaches the innermost; caught there its next yield comes out, uncaught it climbs level by level") {
  for (int depth = 1; depth <= 3; ++depth) {
    CAPTURE(depth);
    asio::io_context io;
    std::vector<std::string> log;
    chain ch(
        io, depth,
        [&](const ctx& co) {
          try {
            ag::yield_(co, 1);
          } catch (const std::out_of_range& e) {
            log.push_back(std::string("leaf caught ") + e.what());
          }
          try {
            ag::yield_(co, 2);
          } catch (const std::invalid_argument& e) {
            log.push_back(std::string("leaf saw ") + e.what());
            throw;
          }
          return 0;
        },
        [&](const ctx& co, int i, gen& d) {
          try {
            return ag::yield_from_(co, d);
          } catch (const std::invalid_argument& e) {
            log.push_back(level_name(i) + " saw " + e.what());
            throw;
          }
        });
    CHECK(text_of(anext(io, ch.outer())) == "1");
    CHECK(text_of(athrow(io, ch.outer(), std::out_of_range("first"))) == "2");
    CHECK(text_of(athrow(io, ch.outer(), std::invalid_argument("second"))) == "second");
    CHECK(log == std::vector<std::string>{"leaf caught first", "leaf saw second"} + outward(depth, "saw second"));
    ch.check_all_finished(io);
  }
}

TEST_CASE("yield_from_ chains: an intermediate level that catches an exception thrown in returns a value its parent yields") {
  // Depth 1 has no intermediate level. Every level but the catcher yields what yield_from_ returned
  // and returns it plus one.
  for (int depth = 2; depth <= 3; ++depth) {
    for (int catcher = 1; catcher < depth; ++catcher) {
      CAPTURE(depth);
      CAPTURE(catcher);
      asio::io_context io;
      std::vector<std::string> log;
      chain ch(
          io, depth,
          [](const ctx& co) {
            ag::yield_(co, 1);
            return 0;
          },
          [&, catcher](const ctx& co, int i, gen& d) {
            if (i == catcher) {
              try {
                return ag::yield_from_(co, d);
              } catch (const std::invalid_argument& e) {
                log.push_back(level_name(i) + " caught " + e.what());
                return 42;
              }
            }
            int r = ag::yield_from_(co, d);
            ag::yield_(co, r);
            return r + 1;
          });
      CHECK(text_of(anext(io, ch.outer())) == "1");
      CHECK(text_of(athrow(io, ch.outer(), std::invalid_argument("x"))) == "42");
      for (int v = 43; v < 42 + catcher; ++v) CHECK(text_of(anext(io, ch.outer())) == std::to_string(v));
      CHECK(text_of(anext(io, ch.outer())) == "stop " + std::to_string(42 + catcher));
      CHECK(log == std::vector<std::string>{level_name(catcher) + " caught x"});
      ch.check_all_finished(io);
    }
  }
}

TEST_CASE("yield_from_ chains: an exception escaping the delegate at any level reaches its parent at its yield_from_ call") {
  for (int depth = 1; depth <= 3; ++depth) {
    for (int failing = 1; failing <= depth; ++failing) {
      CAPTURE(depth);
      CAPTURE(failing);
      asio::io_context io;
      std::vector<std::string> log;
      chain ch(
          io, depth,
          [&](const ctx& co) {
            ag::yield_(co, 0);
            if (failing == depth) throw std::runtime_error("leaf failed");
            return 0;
          },
          [&](const ctx& co, int i, gen& d) {
            if (i == failing - 1) {
              try {
                return ag::yield_from_(co, d);
              } catch (const std::runtime_error& e) {
                log.push_back(level_name(i) + " caught " + e.what());
                ag::yield_(co, 100 + failing);
                return -1;
              }
            }
            int r = ag::yield_from_(co, d);
            if (i == failing) throw std::runtime_error(level_name(i) + " failed");
            return r;
          });
      CHECK(text_of(anext(io, ch.outer())) == "0");
      CHECK(text_of(anext(io, ch.outer())) == std::to_string(100 + failing));
      CHECK(text_of(anext(io, ch.outer())) == "stop -1");
      const std::string failed = failing == depth ? "leaf failed" : level_name(failing) + " failed";
      CHECK(log == std::vector<std::string>{level_name(failing - 1) + " caught " + failed});
    }
  }
}

TEST_CASE("yield_from_ chains: aclose runs the innermost's cleanup first (it may await), then generator_exit in each level outward") {
  // async_generator 1.10 gives the same order without the await in the cleanup; with it, it fails
  // with "coroutine ignored GeneratorExit" (CPython closes the await chain of the delegating
  // coroutine instead of throwing into it), where a lone generator's cleanup may await.
  for (int depth = 1; depth <= 3; ++depth) {
    CAPTURE(depth);
    asio::io_context io;
    std::vector<std::string> log;
    chain ch(io, depth, closing_leaf(log, [&](const ctx& co) {
               asio::post(co);
               log.push_back("leaf awaited");
             }),
             logging_level(log));
    CHECK(text_of(anext(io, ch.outer())) == "0");
    CHECK(error_text(aclose(io, ch.outer())) == "ok");
    CHECK(log == std::vector<std::string>{"leaf cleanup", "leaf awaited"} + outward(depth, "exit"));
    CHECK(lifetime::live() == 0);
    ch.check_all_finished(io);
  }
}

TEST_CASE("yield_from_ chains: a delegate that catches generator_exit and returns; aclose and athrow(generator_exit) close the delegates") {
  // Both close each delegate with aclose, never athrow: with athrow, the leaf's return would end
  // the yield_from_ above it normally ("L<i> got 5"). As in async_generator 1.10: aclose succeeds,
  // athrow(GeneratorExit) raises GeneratorExit, and each level sees GeneratorExit.
  for (int depth = 1; depth <= 3; ++depth) {
    for (const bool by_athrow : {false, true}) {
      CAPTURE(depth);
      CAPTURE(by_athrow);
      asio::io_context io;
      std::vector<std::string> log;
      chain ch(
          io, depth,
          [&](const ctx& co) {
            try {
              ag::yield_(co, 0);
            } catch (const ag::generator_exit&) {
              log.push_back("leaf returns");
              return 5;
            }
            return 0;
          },
          [&](const ctx& co, int i, gen& d) {
            try {
              int r = ag::yield_from_(co, d);
              log.push_back(level_name(i) + " got " + std::to_string(r));
              return r;
            } catch (const ag::generator_exit&) {
              log.push_back(level_name(i) + " exit");
              throw;
            }
          });
      CHECK(text_of(anext(io, ch.outer())) == "0");
      if (by_athrow) {
        CHECK(text_of(athrow(io, ch.outer(), ag::generator_exit())) == "generator_exit");
      } else {
        CHECK(error_text(aclose(io, ch.outer())) == "ok");
      }
      CHECK(log == std::vector<std::string>{"leaf returns"} + outward(depth, "exit"));
      ch.check_all_finished(io);
    }
  }
}

TEST_CASE("yield_from_ chains: a delegate that yields during aclose makes the outer aclose fail with 'async generator ignored GeneratorExit'") {
  // As in async_generator 1.10: the delegate's aclose fails, that error (or the one its cleanup
  // raises) is raised in each level at its yield_from_ instead of generator_exit, and a delegate
  // that yielded stays suspended at its yield.
  for (int depth = 1; depth <= 3; ++depth) {
    for (const bool yields : {true, false}) {
      CAPTURE(depth);
      CAPTURE(yields);
      asio::io_context io;
      std::vector<std::string> log;
      chain ch(
          io, depth,
          [&](const ctx& co) {
            try {
              ag::yield_(co, 0);
            } catch (const ag::generator_exit&) {
              if (!yields) throw std::runtime_error("cleanup failed");
              log.push_back("leaf yields");
              ag::yield_(co, 9);
              log.push_back("leaf after 9");
            }
            return 3;
          },
          logging_level(log));
      CHECK(text_of(anext(io, ch.outer())) == "0");
      const std::string error = yields ? "async generator ignored GeneratorExit" : "cleanup failed";
      CHECK(error_text(aclose(io, ch.outer())) == error);
      CHECK(log == (yields ? std::vector<std::string>{"leaf yields"} : std::vector<std::string>{}) + outward(depth, error));
      for (int i = 0; i < depth; ++i) CHECK(text_of(anext(io, ch[i])) == "stop");
      CHECK(text_of(anext(io, ch[depth])) == (yields ? "stop 3" : "stop"));
      if (yields) CHECK(log.back() == "leaf after 9");
    }
  }
}

TEST_CASE("yield_from_ chains: each level yields what yield_from_ returned and returns it plus one, every generator waiting 1 ms on a steady_timer") {
  for (int depth = 1; depth <= 3; ++depth) {
    CAPTURE(depth);
    asio::io_context io;
    std::vector<int> sent;
    auto sleep = [](const ctx& co) {
      asio::steady_timer timer(co.get_executor(), std::chrono::milliseconds(1));
      timer.async_wait(co);
    };
    chain ch(
        io, depth,
        [&](const ctx& co) {
          for (int i = 0; i < 3; ++i) {
            sleep(co);
            if (auto s = ag::yield_(co, i)) sent.push_back(*s);
          }
          sleep(co);
          return 7;
        },
        [&](const ctx& co, int, gen& d) {
          const int r = ag::yield_from_(co, d);
          sleep(co);
          ag::yield_(co, r);
          return r + 1;
        });
    CHECK(text_of(anext(io, ch.outer())) == "0");
    CHECK(text_of(asend(io, ch.outer(), 5)) == "1");
    CHECK(text_of(anext(io, ch.outer())) == "2");
    for (int v = 7; v < 7 + depth; ++v) CHECK(text_of(anext(io, ch.outer())) == std::to_string(v));
    CHECK(text_of(anext(io, ch.outer())) == "stop " + std::to_string(7 + depth));
    CHECK(sent == std::vector<int>{5});
  }
}

TEST_CASE("yield_from_ chains: ag_running of every generator is true while an operation runs through the chain, false between") {
  for (int depth = 1; depth <= 3; ++depth) {
    CAPTURE(depth);
    asio::io_context io;
    std::vector<std::string> seen;  // seen from inside the innermost body, in anext, asend, athrow, aclose
    chain* self = nullptr;
    chain ch(io, depth, [&](const ctx& co) {
      try {
        seen.push_back(self->running());
        ag::yield_(co, 0);
        seen.push_back(self->running());
        try {
          ag::yield_(co, 1);
        } catch (const std::out_of_range&) {
          seen.push_back(self->running());
        }
        ag::yield_(co, 2);
      } catch (const ag::generator_exit&) {
        seen.push_back(self->running());
        throw;
      }
      return 0;
    });
    self = &ch;
    const std::string all(depth + 1, 'R'), none(depth + 1, '-');
    CHECK(ch.running() == none);
    CHECK(text_of(anext(io, ch.outer())) == "0");
    CHECK(ch.running() == none);
    CHECK(text_of(asend(io, ch.outer(), 1)) == "1");
    CHECK(ch.running() == none);
    CHECK(text_of(athrow(io, ch.outer(), std::out_of_range("x"))) == "2");
    CHECK(ch.running() == none);
    CHECK(error_text(aclose(io, ch.outer())) == "ok");
    CHECK(ch.running() == none);
    CHECK(seen == std::vector<std::string>(4, all));
  }
}

TEST_CASE("yield_from_ chains: operations on any generator of a chain waiting in the innermost's timer fail with '…already running'") {
  for (int depth = 1; depth <= 3; ++depth) {
    CAPTURE(depth);
    asio::io_context io;
    asio::steady_timer gate(io, std::chrono::hours(1));
    chain ch(io, depth, [&](const ctx& co) {
      ag::yield_(co, 0);
      ag::error_code ec;
      gate.async_wait(co[ec]);
      ag::yield_(co, 1);
      return 0;
    });
    CHECK(text_of(anext(io, ch.outer())) == "0");
    std::string first;
    ch.outer().anext([&](std::exception_ptr e, int v) { first = text_of(e, v); });
    io.restart();
    io.poll();
    CHECK(ch.running() == std::string(depth + 1, 'R'));
    std::vector<std::string> second;
    auto record = [&](std::exception_ptr e, int v) { second.push_back(text_of(e, v)); };
    for (int i = 0; i <= depth; ++i) {
      ch[i].anext(record);
      ch[i].asend(1, record);
      ch[i].athrow(std::make_exception_ptr(std::out_of_range("x")), record);
      ch[i].aclose([&](std::exception_ptr e) { second.push_back(error_text(e)); });
    }
    io.poll();
    std::vector<std::string> expected;
    for (int i = 0; i <= depth; ++i) {
      expected.insert(expected.end(), {"anext(): asynchronous generator is already running",
                                       "anext(): asynchronous generator is already running",
                                       "athrow(): asynchronous generator is already running",
                                       "aclose(): asynchronous generator is already running"});
    }
    CHECK(second == expected);
    CHECK(first.empty());
    gate.cancel();
    io.run();
    CHECK(first == "1");
    CHECK(ch.running() == std::string(depth + 1, '-'));
  }
}

TEST_CASE("yield_from_ chains: anext on the outer while the innermost runs an operation of its own fails in every level, as in async_generator 1.10") {
  // The outer generator is not running, so it resumes; its yield_from_ then finds the delegate
  // running, and that error climbs out of every level. The package does the same (ValueError).
  for (int depth = 1; depth <= 3; ++depth) {
    CAPTURE(depth);
    asio::io_context io;
    asio::steady_timer gate(io, std::chrono::hours(1));
    std::vector<std::string> log;
    chain ch(
        io, depth,
        [&](const ctx& co) {
          ag::yield_(co, 0);
          ag::error_code ec;
          gate.async_wait(co[ec]);
          ag::yield_(co, 1);
          return 2;
        },
        logging_level(log));
    CHECK(text_of(anext(io, ch.outer())) == "0");
    std::string direct, outer;
    ch[depth].anext([&](std::exception_ptr e, int v) { direct = text_of(e, v); });
    io.restart();
    io.poll();
    CHECK(ch.running() == std::string(depth, '-') + "R");
    ch.outer().anext([&](std::exception_ptr e, int v) { outer = text_of(e, v); });
    io.poll();
    CHECK(outer == "anext(): asynchronous generator is already running");
    CHECK(log == outward(depth, "anext(): asynchronous generator is already running"));
    gate.cancel();
    io.run();
    CHECK(direct == "1");
    for (int i = 0; i < depth; ++i) CHECK(text_of(anext(io, ch[i])) == "stop");
    CHECK(text_of(anext(io, ch[depth])) == "stop 2");
  }
}

TEST_CASE("yield_from_ chains: delegating to a running generator (itself, or a level above it) fails with 'anext(): …already running'") {
  asio::io_context io;
  ag::async_generator<int> itself;
  itself = ag::make_async_generator<int>(io, [&itself](ag::context<int> co) { ag::yield_from_(co, itself); });
  CHECK(text_of(anext(io, itself)) == "anext(): asynchronous generator is already running");
  CHECK(text_of(anext(io, itself)) == "stop");

  // As in async_generator 1.10 (with its ValueError "async generator already executing"): the
  // error ends every level, and the chain is finished.
  for (int depth = 1; depth <= 3; ++depth) {
    for (int target = 0; target < depth; ++target) {
      CAPTURE(depth);
      CAPTURE(target);
      chain* self = nullptr;
      chain ch(io, depth, [&](const ctx& co) {
        ag::yield_(co, 0);
        return ag::yield_from_(co, (*self)[target]);
      });
      self = &ch;
      CHECK(text_of(anext(io, ch.outer())) == "0");
      CHECK(text_of(anext(io, ch.outer())) == "anext(): asynchronous generator is already running");
      ch.check_all_finished(io);
    }
  }
}

TEST_CASE("yield_from_ chains: anext directly on an inner generator between operations on the outer one, as in async_generator 1.10") {
  // Python allows it: the inner generator runs on its own (the levels above it are not running),
  // and the outer one's next anext goes on from where the inner one is. When the direct anext ends
  // the inner generator, it gets the return value, and the levels above get an empty end of
  // iteration: their yield_from_ returns R() (Python's None).
  for (int depth = 1; depth <= 3; ++depth) {
    for (int k = 1; k <= depth; ++k) {
      CAPTURE(depth);
      CAPTURE(k);
      asio::io_context io;
      std::vector<std::string> seen;
      chain* self = nullptr;
      chain ch(io, depth, [&](const ctx& co) {
        for (int i = 0; i < 4; ++i) {
          seen.push_back(self->running());
          ag::yield_(co, i);
        }
        return 77;
      });
      self = &ch;
      CHECK(text_of(anext(io, ch.outer())) == "0");
      CHECK(text_of(anext(io, ch[k])) == "1");
      CHECK(text_of(anext(io, ch.outer())) == "2");
      CHECK(seen == std::vector<std::string>{std::string(depth + 1, 'R'), std::string(k, '-') + std::string(depth + 1 - k, 'R'),
                                             std::string(depth + 1, 'R')});
      CHECK(text_of(anext(io, ch.outer())) == "3");
      CHECK(text_of(anext(io, ch.outer())) == "stop 77");

      chain ends(io, depth, [](const ctx& co) {
        ag::yield_(co, 0);
        return 77;
      });
      CHECK(text_of(anext(io, ends.outer())) == "0");
      CHECK(text_of(anext(io, ends[k])) == "stop 77");
      CHECK(text_of(anext(io, ends.outer())) == "stop 0");
      ends.check_all_finished(io);
    }
  }
}

TEST_CASE("yield_from_ chains: dropping the outermost handle of a suspended chain closes every level, innermost first") {
  // A delegate that yields then fails each level's yield_from_, and one report goes to the
  // unraisable hook, as async_generator 1.10 reports one RuntimeError.
  for (int depth = 1; depth <= 3; ++depth) {
    for (const bool yields : {false, true}) {
      CAPTURE(depth);
      CAPTURE(yields);
      unraisable_log unraisable;
      sync_close_context io;
      std::vector<std::string> log;
      chain ch(io, depth, closing_leaf(log, [&](const ctx& co) {
                 if (yields) ag::yield_(co, 5);
               }),
               logging_level(log));
      CHECK(text_of(anext(io, ch.outer())) == "0");
      ch.outer() = gen();
      const std::string ignored = "async generator ignored GeneratorExit";
      CHECK(log == std::vector<std::string>{"leaf cleanup"} + outward(depth, yields ? ignored : "exit"));
      CHECK(unraisable.entries == (yields ? std::vector<std::string>{"RuntimeError: " + ignored} : std::vector<std::string>{}));
      if (!yields) CHECK(lifetime::live() == 0);
    }
  }
}

TEST_CASE("yield_from_ chains: a delegate that awaits while its chain is closed on drop: the await is refused and reported") {
  for (int depth = 1; depth <= 3; ++depth) {
    CAPTURE(depth);
    unraisable_log unraisable;
    sync_close_context io;
    std::vector<std::string> log;
    chain ch(io, depth, closing_leaf(log, [&](const ctx& co) {
               asio::post(co);
               log.push_back("leaf awaited");
             }),
             logging_level(log));
    CHECK(text_of(anext(io, ch.outer())) == "0");
    ch.outer() = gen();
    CHECK(lifetime::live() == 0);
    CHECK(unraisable.entries == std::vector<std::string>{"RuntimeError: async generator ignored GeneratorExit"});
    io.restart();
    io.run();
    CHECK(std::find(log.begin(), log.end(), "leaf awaited") == log.end());
  }
}
