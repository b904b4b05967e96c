/* The API's documentation page: Swagger UI (static/vendor/swagger-ui) reading the generated OpenAPI document. */
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: false,
    validatorUrl: null,  // no badge from validator.swagger.io: the page runs offline, within the CSP
  });
});
