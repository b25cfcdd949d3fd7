// squeeze-report: the HTML holds every section and its plots as decodable embedded PNGs, the PDF
// is a PDF, and bad input is a clear message with a non-zero exit and no file left behind.
#include <gtest/gtest.h>

#include <QFile>
#include <QImage>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>

#include "test_support.hpp"

namespace squeeze::gui {
namespace {

struct Run {
  int exit_code = -1;
  QString output;
};

Run report(const QStringList& args) {
  QProcess p;
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert("QT_QPA_PLATFORM", "offscreen");
  p.setProcessEnvironment(env);
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.start(test::binary("squeeze-report"), args);
  if (!p.waitForFinished(120000)) {
    p.kill();
    return {-1, "timed out"};
  }
  return {p.exitCode(), QString::fromLocal8Bit(p.readAll())};
}

TEST(Report, HtmlHoldsSectionsTablesAndEmbeddedPlots) {
  QTemporaryDir dir;
  const QString out = dir.filePath("report.html");
  auto r = report({test::fixture_trace(), "--hardware", "h100-sxm,a100-80gb", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.output.toStdString();
  QFile f(out);
  ASSERT_TRUE(f.open(QIODevice::ReadOnly));
  const QString html = QString::fromUtf8(f.readAll());
  for (const char* section : {"Summary", "Model and trace", "Layer importance and clusters", "Per-layer budgets",
                              "Memory and throughput", "Max batch per GPU", "Simulator validation"})
    EXPECT_TRUE(html.contains(QString("<h2>%1</h2>").arg(section))) << section;
  EXPECT_TRUE(html.contains("llama")) << "names the model";
  EXPECT_TRUE(html.contains("h100-sxm") && html.contains("a100-80gb")) << "names both GPUs";
  EXPECT_FALSE(html.contains("squeeze-img:")) << "every image reference was inlined";
  EXPECT_FALSE(html.contains("src=\"http")) << "self-contained";

  QRegularExpression img("<img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");
  int images = 0;
  for (auto it = img.globalMatch(html); it.hasNext();) {
    const auto m = it.next();
    QImage decoded;
    ASSERT_TRUE(decoded.loadFromData(QByteArray::fromBase64(m.captured(1).toLatin1()), "PNG"));
    EXPECT_GT(decoded.width(), 500);
    EXPECT_GT(decoded.height(), 200);
    ++images;
  }
  EXPECT_EQ(images, 2 + 2 * 2 + 1) << "similarity, budgets, memory + throughput per GPU, validation";
  // Max batch table: one row per GPU.
  EXPECT_GE(html.count("<tr>"), 2 + 32);
}

TEST(Report, PdfIsWrittenAtomically) {
  QTemporaryDir dir;
  const QString out = dir.filePath("report.pdf");
  auto r = report({test::fixture_trace(), "--hardware", "h100-sxm", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.output.toStdString();
  QFile f(out);
  ASSERT_TRUE(f.open(QIODevice::ReadOnly));
  EXPECT_TRUE(f.read(5).startsWith("%PDF-"));
  EXPECT_GT(f.size(), 20000) << "the plots are in it";
  EXPECT_FALSE(QFile::exists(out + ".tmp"));
}

TEST(Report, BadInputIsAClearMessageAndExitTwo) {
  QTemporaryDir dir;
  const QString out = dir.filePath("r.html");
  auto missing = report({dir.filePath("nope.sqz"), "-o", out});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(missing.output.contains("nope.sqz")) << missing.output.toStdString();
  auto gpu = report({test::fixture_trace(), "--hardware", "tpu-v9", "-o", out});
  EXPECT_EQ(gpu.exit_code, 2);
  EXPECT_TRUE(gpu.output.contains("tpu-v9")) << gpu.output.toStdString();
  auto suffix = report({test::fixture_trace(), "-o", dir.filePath("r.docx")});
  EXPECT_EQ(suffix.exit_code, 2);
  auto p = report({test::fixture_trace(), "--p", "1.5", "-o", out});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_FALSE(QFile::exists(out));
}

}  // namespace
}  // namespace squeeze::gui
