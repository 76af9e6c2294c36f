/* Names for the two widgets Django's admin builds in the browser without them.

   The filter_horizontal selector (SelectFilter2.js) puts an aria-label on a bare <span> icon,
   where ARIA forbids it: the icon becomes an image, so its label is read. Select2 (autocomplete
   fields) names its combobox by the selected text only, which is empty until something is
   chosen: it is named by the field's own label instead.

   Both widgets are built after the page loads and again for each inline row added, so the
   fixes follow the document as it changes. */
"use strict";
(function () {
    function fieldName(select) {
        if (select.getAttribute("aria-label")) {
            return select.getAttribute("aria-label");
        }
        const label = select.id && document.querySelector(`label[for="${CSS.escape(select.id)}"]`);
        return label ? label.textContent.trim().replace(/:$/, "") : "";
    }

    function nameWidgets(root) {
        root.querySelectorAll(".search-label-icon[aria-label]:not([role])").forEach(function (icon) {
            icon.setAttribute("role", "img");
        });
        root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
            const container = select.nextElementSibling;
            if (!container || !container.classList.contains("select2")) {
                return;
            }
            const name = fieldName(select);
            if (!name) {
                return;
            }
            container.querySelectorAll(".select2-selection, .select2-selection__rendered").forEach(
                function (part) {
                    part.removeAttribute("aria-labelledby");
                    part.setAttribute("aria-label", name);
                }
            );
        });
    }

    new MutationObserver(function (mutations) {
        if (mutations.some((mutation) => mutation.addedNodes.length)) {
            nameWidgets(document);
        }
    }).observe(document.documentElement, {childList: true, subtree: true});
})();
