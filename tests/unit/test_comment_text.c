/* Unit tests for comment_html_to_text (node/comment.c): remote replies arrive
 * as HTML and are stored as plain text, so nothing of their markup can act on
 * a page that shows them. */
#include "comment.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static void check(const char *html, const char *want)
{
    char *t = comment_html_to_text(html);
    CHECK_STR(t, want, html);
    free(t);
}

int main(void)
{
    check("<p>Hallo</p>", "Hallo");
    check("<p>Erster Absatz</p><p>Zweiter</p>", "Erster Absatz\n\nZweiter");
    check("Zeile<br>Zeile<br/>Zeile", "Zeile\nZeile\nZeile");
    check("<p>a <script>alert(1)</script>b</p>", "a b");
    check("<style>p{color:red}</style>Text", "Text");
    check("<SCRIPT type=\"x\">evil()</SCRIPT>ok", "ok");
    check("&lt;script&gt; &amp; &quot;x&quot; &#39;y&#39;", "<script> & \"x\" 'y'");
    check("&#x41;&#66;&auml;&szlig;&euro;", "ABäß€");
    check("&unknown; & alone &#;", "&unknown; & alone &#;");
    check("&#0;", "\xef\xbf\xbd");
    check("<span class=\"h-card\"><a href=\"https://x/@u\">@<span>u</span></a></span> hi", "@u hi");
    check("<p>unclosed <b", "unclosed");
    check("", "");
    check("\n\n  <p>  </p>\n", "");
    check("a<br><br><br><br>b", "a\n\nb");
    return tl_done();
}
