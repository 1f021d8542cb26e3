// The C++ side of the differential test: runs the scenarios of scenarios.py with this library and
// prints the event trace oracle.py prints for Python's async generators.
//
// Usage: interpreter [file]   (reads standard input without a file)
// Output: for each scenario, "scenario <id>", its trace lines, "endscenario".
#include "scenario.hpp"

#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <chrono>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace ag = async_generator;

namespace differential {
namespace {

// The trace of the scenario being run (one scenario at a time, on one thread).
std::vector<std::string> trace;

// The scenarios' raised errors, named E1, E2, E3 (Python: subclasses of Exception).
class named_error : public std::exception {
 public:
  explicit named_error(std::string name) : name_(std::move(name)) {}
  const char* what() const noexcept override { return name_.c_str(); }

 private:
  std::string name_;
};

// An exception as the traces show it (oracle.py's describe()).
std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const named_error& n) {
    return n.what();
  } catch (const ag::generator_exit&) {
    return "GeneratorExit";
  } catch (const ag::stop_async_iteration&) {
    return "StopAsyncIteration";
  } catch (const ag::runtime_error& r) {
    return std::string("RuntimeError: ") + r.what();
  } catch (const ag::type_error& t) {
    return std::string("TypeError: ") + t.what();
  } catch (const std::exception& x) {
    return std::string("other: ") + x.what();
  } catch (...) {
    return "other: unknown";
  }
}

// What Python's `except <kind>:` catches.
bool handles(const std::string& kind, const std::exception_ptr& e) {
  if (kind == "any") return true;  // except BaseException
  try {
    std::rethrow_exception(e);
  } catch (const named_error& n) {
    return kind == n.what();
  } catch (const ag::generator_exit&) {
    return kind == "exit";
  } catch (...) {
    return false;
  }
}

using generator_context = ag::context<int, int>;

template <class R>
ag::async_generator<int, int, R> make_generator(const scenario& sc, int number, const asio::any_io_executor& ex);

// Runs one generator body, statement by statement, on the generator's fiber. R is the
// generator's return type: void in native scenarios, int in valued ones.
template <class R>
class body_runner {
 public:
  body_runner(const scenario& sc, int number, const generator_context& co) : sc_(sc), number_(number), co_(co) {}

  // The body's return value: the one of its `return`, or 0 when it ran to its end.
  int run() {
    note("started");
    // A return abandoned for an exception (raised by a finally block) does not count.
    return run(sc_.gens.at(static_cast<std::size_t>(number_))) == flow::returned ? returned_ : 0;
  }

 private:
  enum class flow { normal, returned };

  flow run(const body& statements) {
    for (const step& s : statements) {
      if (run(s) == flow::returned) return flow::returned;
    }
    return flow::normal;
  }

  flow run(const step& s) {
    switch (s.kind) {
      case step::yield: {
        const auto sent = ag::yield_(co_, s.value);
        note("got " + (sent ? std::to_string(*sent) : std::string("None")));
        return flow::normal;
      }
      case step::await: {
        asio::steady_timer timer(co_.get_executor());
        timer.expires_after(std::chrono::milliseconds(0));
        timer.async_wait(co_);
        note("awaited");
        return flow::normal;
      }
      case step::raise:
        if (s.error == "Stop") throw ag::stop_async_iteration();
        throw named_error(s.error);
      case step::reraise:
        std::rethrow_exception(handled_.back());
      case step::return_:
        returned_ = s.value;
        return flow::returned;
      case step::yield_from:
        delegate(s.value, std::is_void<R>());
        return flow::normal;
      case step::try_:
        return run(*s.block);
    }
    return flow::normal;
  }

  void delegate(int, std::true_type) { throw std::logic_error("yield_from_ in a native scenario"); }
  void delegate(int number, std::false_type) {
    auto sub = make_generator<R>(sc_, number, co_.get_executor());
    const int result = ag::yield_from_(co_, sub);
    note("delegate returned " + std::to_string(result));
  }

  // try/except/finally with Python's rules. Nothing awaits inside a catch block (see README):
  // the exception is taken out first, and the handler's statements run after the catch.
  flow run(const try_block& block) {
    flow result = flow::normal;
    std::exception_ptr pending = run_catching(block.statements, result);
    if (pending) {
      for (const handler& h : block.handlers) {
        if (!handles(h.kind, pending)) continue;
        note("caught " + h.kind);
        handled_.push_back(pending);  // what a bare `raise` re-raises
        pending = run_catching(h.statements, result);
        handled_.pop_back();
        break;
      }
    }
    if (block.has_finally) {
      note("finally");
      // In a finally block run for an exception, that exception is the one being handled.
      if (pending) handled_.push_back(pending);
      flow final_flow = flow::normal;
      std::exception_ptr final_error = run_catching(block.finally_statements, final_flow);
      if (pending) handled_.pop_back();
      if (final_error) std::rethrow_exception(final_error);  // replaces the pending one
      if (final_flow == flow::returned) return flow::returned;  // discards the pending one
    }
    if (pending) std::rethrow_exception(pending);
    return result;
  }

  // Runs statements; returns what they raised, or null. The library's own unwinding (a destroyed
  // context unwinds suspended bodies) is never caught.
  std::exception_ptr run_catching(const body& statements, flow& result) {
    try {
      result = run(statements);
      return nullptr;
    } catch (const ag::compat::forced_unwind&) {
      throw;
    } catch (const ag::detail::unwind_signal&) {
      throw;
    } catch (...) {
      return std::current_exception();
    }
  }

  void note(const std::string& event) { trace.push_back("g" + std::to_string(number_) + " " + event); }

  const scenario& sc_;
  int number_;
  const generator_context& co_;
  std::vector<std::exception_ptr> handled_;
  int returned_ = 0;
};

template <class R>
struct body_result {
  static R from(int value) { return value; }
};
template <>
struct body_result<void> {
  static void from(int) {}
};

template <class R>
ag::async_generator<int, int, R> make_generator(const scenario& sc, int number, const asio::any_io_executor& ex) {
  return ag::make_async_generator<int, int, R>(ex, [&sc, number](generator_context co) {
    return body_result<R>::from(body_runner<R>(sc, number, co).run());
  });
}

// The text of an end of iteration: "stop", or "stop <value>" when it carries a return value.
std::string stop_text(const ag::stop_async_iteration& stop, std::true_type /* R is void */) {
  return stop.has_value() ? "stop <unexpected value>" : "stop";
}
std::string stop_text(const ag::stop_async_iteration& stop, std::false_type) {
  return stop.has_value() ? "stop " + std::to_string(stop.value<int>()) : "stop";
}

template <class R>
std::string outcome_text(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const ag::stop_async_iteration& stop) {
    return stop_text(stop, std::is_void<R>());
  } catch (...) {
    return "raised " + describe(e);
  }
}

void report(const operation& op, const std::string& result) { trace.push_back("op " + op.text + " -> " + result); }

std::exception_ptr thrown_by(const operation& op) {
  if (op.kind == "exit") return std::make_exception_ptr(ag::generator_exit());
  if (op.kind == "Stop") return std::make_exception_ptr(ag::stop_async_iteration());
  return std::make_exception_ptr(named_error(op.kind));
}

// The callback consumer: runs the scenario's operations one after another, each started from the
// completion handler of the previous one, then drops its handle.
template <class R>
class callback_consumer {
 public:
  callback_consumer(const scenario& sc, asio::io_context& io) : sc_(sc), gen_(make_generator<R>(sc, 0, io.get_executor())) {}

  void start() { next(0); }

 private:
  void next(std::size_t index) {
    if (index == sc_.ops.size()) {
      trace.push_back("op drop");
      gen_ = ag::async_generator<int, int, R>();  // a started, suspended one gets its aclose scheduled
      return;
    }
    const operation& op = sc_.ops[index];
    auto then = [this, index, &op](std::exception_ptr e, int value) {
      report(op, e ? outcome_text<R>(e) : "value " + std::to_string(value));
      next(index + 1);
    };
    if (op.name == "anext") {
      gen_.anext(then);
    } else if (op.name == "asend") {
      gen_.asend(op.value, then);
    } else if (op.name == "athrow") {
      gen_.athrow(thrown_by(op), then);
    } else {
      gen_.aclose([this, index, &op](std::exception_ptr e) {
        report(op, e ? outcome_text<R>(e) : "ok");
        next(index + 1);
      });
    }
  }

  const scenario& sc_;
  ag::async_generator<int, int, R> gen_;
};

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
// The coroutine consumer: an asio::spawn coroutine on the generator's executor, whose operations
// switch to the body's fiber directly (no handler, no executor hop).
template <class R>
void spawn_consumer(const scenario& sc, asio::io_context& io) {
  asio::spawn(io, [&sc, &io](asio::yield_context yield) {
    auto gen = make_generator<R>(sc, 0, io.get_executor());
    for (const operation& op : sc.ops) {
      std::string result;
      try {
        if (op.name == "anext") {
          result = "value " + std::to_string(gen.anext(yield));
        } else if (op.name == "asend") {
          result = "value " + std::to_string(gen.asend(op.value, yield));
        } else if (op.name == "athrow") {
          result = "value " + std::to_string(gen.athrow(thrown_by(op), yield));
        } else {
          gen.aclose(yield);
          result = "ok";
        }
      } catch (const boost::context::detail::forced_unwind&) {
        throw;
      } catch (...) {
        result = outcome_text<R>(std::current_exception());
      }
      report(op, result);
    }
    trace.push_back("op drop");
    gen = ag::async_generator<int, int, R>();
  }, asio::detached);
}
#endif

template <class R>
void run_scenario(const scenario& sc, asio::io_context& io) {
  callback_consumer<R> callbacks(sc, io);
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
  if (sc.consumer == "spawn") {
    spawn_consumer<R>(sc, io);
  } else {
    callbacks.start();
  }
#else
  callbacks.start();  // no fiber-based asio::spawn before Boost 1.80: every consumer is a callback one
#endif
  io.restart();
  io.run();  // until the dropped generator's scheduled close, if any, is done
}

}  // namespace
}  // namespace differential

int main(int argc, char** argv) {
  using namespace differential;
  std::ifstream file;
  if (argc > 1) {
    file.open(argv[1]);
    if (!file) {
      std::cerr << "interpreter: cannot open " << argv[1] << "\n";
      return 2;
    }
  }
  std::istream& in = argc > 1 ? static_cast<std::istream&>(file) : std::cin;

  asio::io_context io;
  // A dropped generator's failed close (asyncio: the aclose() task's exception, never retrieved).
  ag::set_asyncgen_exception_handler(io, [](const ag::asyncgen_error& error) {
    trace.push_back("finalize error " + (error.exception ? describe(error.exception) : error.message));
  });
  // Python's sys.unraisablehook, as oracle.py sets it.
  ag::set_unraisablehook([](const ag::unraisable& u) { trace.push_back("unraisable " + describe(u.exception)); });
  try {
    scenario_reader reader(in);
    scenario sc;
    std::string out;
    while (reader.next(sc)) {
      // The header goes out first, so that a crash is attributed to the scenario it happened in.
      std::cout << "scenario " << sc.ident << std::endl;
      trace.clear();
      if (sc.valued) {
        run_scenario<int>(sc, io);
      } else {
        run_scenario<void>(sc, io);
      }
      out.clear();
      for (const std::string& line : trace) out += line + "\n";
      out += "endscenario\n";
      std::cout << out;
    }
  } catch (const std::exception& e) {
    std::cerr << "interpreter: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
