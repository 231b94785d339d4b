/* The query page of `diplograph serve`: YASGUI set to this server's endpoint, with the named queries. */
(function () {
  "use strict";

  var endpoint = new URL("/sparql", window.location.href).href;
  var catalogue = {};   // name -> named query (from /queries.json)
  var tabQuery = {};    // tab id -> name of the named query loaded in it

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: {
      getData: function () { return [{ endpoint: endpoint }]; }
    },
    persistenceId: "diplograph-yasgui",
    yasqe: { autocompleters: ["prefixes", "variables"], prefixCcApi: null },
    yasr: { prefixes: {
      dg: "https://w3id.org/diplograph/ontology#", dgid: "https://w3id.org/diplograph/id/",
      topic: "https://w3id.org/diplograph/topic/", role: "https://w3id.org/diplograph/role/",
      rdfs: "http://www.w3.org/2000/01/rdf-schema#", skos: "http://www.w3.org/2004/02/skos/core#",
      xsd: "http://www.w3.org/2001/XMLSchema#", prov: "http://www.w3.org/ns/prov#",
      dcterms: "http://purl.org/dc/terms/", org: "http://www.w3.org/ns/org#"
    } }
  });
  window.diplographYasgui = yasgui;

  // Tabs restored from an earlier session may point elsewhere: this page queries this server only.
  Object.keys(yasgui._tabs || {}).forEach(function (id) {
    var tab = yasgui.getTab(id);
    if (tab && tab.getEndpoint() !== endpoint) { tab.setEndpoint(endpoint); }
  });

  function currentArgs(tab) {
    var config = tab.getRequestConfig();
    return Array.isArray(config.args) ? config.args : [];
  }

  function setArgs(tab, values) {
    var args = [];
    Object.keys(values).forEach(function (name) {
      if (values[name] !== "") { args.push({ name: "$" + name, value: values[name] }); }
    });
    tab.setRequestConfig({ args: args });
  }

  function renderParams() {
    var tab = yasgui.getTab();
    var section = document.getElementById("params");
    var form = document.getElementById("params-form");
    if (!tab) { section.hidden = true; return; }
    var named = catalogue[tabQuery[tab.getId()]];
    var bound = {};
    currentArgs(tab).forEach(function (arg) {
      if (arg.name && arg.name.charAt(0) === "$") { bound[arg.name.slice(1)] = arg.value; }
    });
    var text = tab.getQuery();
    var params = named ? named.params.filter(function (p) { return mentions(text, p.name); }) : [];
    Object.keys(bound).forEach(function (name) {
      if (!params.some(function (p) { return p.name === name; })) {
        params.push({ name: name, required: false, kind: "", description: "" });
      }
    });
    if (!params.length) { section.hidden = true; form.textContent = ""; return; }
    section.hidden = false;
    document.getElementById("params-title").textContent = named ? named.name : "Parameters";
    document.getElementById("params-answers").textContent = named ? named.answers : "";
    form.textContent = "";
    params.forEach(function (param) {
      var label = document.createElement("label");
      var head = document.createElement("b");
      head.textContent = "?" + param.name + (param.required ? " (required)" : "");
      var input = document.createElement("input");
      input.name = param.name;
      input.value = bound[param.name] || "";
      input.placeholder = param.kind || "value";
      input.required = !!param.required;
      input.title = param.description || "";
      input.addEventListener("input", function () {
        var values = {};
        Array.prototype.forEach.call(form.elements, function (el) { values[el.name] = el.value.trim(); });
        setArgs(tab, values);
      });
      var help = document.createElement("span");
      help.textContent = param.description || "";
      label.appendChild(head);
      label.appendChild(input);
      label.appendChild(help);
      form.appendChild(label);
    });
  }

  function loadNamed(name) {
    var named = catalogue[name];
    if (!named) { return; }
    var tab = yasgui.getTab();
    tab.setQuery(named.query);
    tab.setName(name);
    tabQuery[tab.getId()] = name;
    var values = {};
    named.params.forEach(function (p) { values[p.name] = named.example_params[p.name] || ""; });
    setArgs(tab, values);
    document.querySelectorAll("#query-list button").forEach(function (b) {
      b.setAttribute("aria-current", b.dataset.name === name ? "true" : "false");
    });
    renderParams();
  }

  // Parameters follow the query text: a binding whose variable is no longer in the query is dropped.
  function mentions(text, name) {
    return new RegExp("[?$]" + name.replace(/[^A-Za-z0-9_]/g, "") + "(?![A-Za-z0-9_])").test(text);
  }

  function pruneArgs(tab) {
    var text = tab.getQuery();
    var args = currentArgs(tab);
    var kept = args.filter(function (arg) {
      return arg.name.charAt(0) !== "$" || mentions(text, arg.name.slice(1));
    });
    if (kept.length !== args.length) { tab.setRequestConfig({ args: kept }); }
    renderParams();
  }

  var hooked = [];
  function hook(tab) {
    if (!tab || hooked.indexOf(tab) >= 0 || !tab.getYasqe()) { return; }
    hooked.push(tab);
    tab.getYasqe().on("change", function () { pruneArgs(tab); });
  }

  yasgui.on("tabSelect", function () { setTimeout(function () { hook(yasgui.getTab()); renderParams(); }, 0); });
  hook(yasgui.getTab());

  fetch("/queries.json", { headers: { Accept: "application/json" } })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      var list = document.getElementById("query-list");
      data.queries.forEach(function (named) {
        catalogue[named.name] = named;
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.dataset.name = named.name;
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = named.name;
        var title = document.createElement("span");
        title.className = "title";
        title.textContent = named.title;
        button.appendChild(name);
        button.appendChild(title);
        button.addEventListener("click", function () { loadNamed(named.name); });
        item.appendChild(button);
        list.appendChild(item);
      });
      document.getElementById("info").textContent = data.triples + " triples · endpoint " + endpoint +
        " · limits: " + data.timeout_s + " s, " + data.max_rows + " rows per query";
      var tab = yasgui.getTab();
      if (tab && !tab.getQuery().replace(/PREFIX[^\n]*\n|#[^\n]*\n|SELECT \* WHERE \{[\s\S]*LIMIT 10/gi, "").trim()
          && catalogue["who-met-whom"]) {
        loadNamed("who-met-whom");  // a fresh page starts with a useful query
      }
      renderParams();
    })
    .catch(function () {
      document.getElementById("info").textContent = "Could not load the named queries from /queries.json.";
    });
}());
