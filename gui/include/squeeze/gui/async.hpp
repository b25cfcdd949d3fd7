#pragma once
// Runs `work` on the global thread pool and hands its value to `done` on `context`'s thread
// (the UI thread), as a queued signal. If `context` dies first, `done` is never called.
#include <QFutureWatcher>
#include <QObject>
#include <QtConcurrent/QtConcurrentRun>
#include <functional>

namespace squeeze::gui {

template <class T>
void run_async(QObject* context, std::function<T()> work, std::function<void(T)> done) {
  auto* watcher = new QFutureWatcher<T>(context);
  QObject::connect(watcher, &QFutureWatcher<T>::finished, context, [watcher, done = std::move(done)] {
    done(watcher->result());
    watcher->deleteLater();
  });
  watcher->setFuture(QtConcurrent::run(std::move(work)));
}

}  // namespace squeeze::gui
