package oauth

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Catalogs are flat JSON objects in locales/, one file per language,
// named by its lowercase BCP 47 tag (en.json, fr.json, zh.json, pt-br.json):
//
//	{"meta.name": "Français", "meta.tag": "fr", "meta.dir": "ltr",
//	 "login.heading": "Se connecter à {client}", ...}
//
// meta.name is the language's own name (for the language menu), meta.tag
// goes in <html lang>, meta.dir is "rtl" for right-to-left scripts.
// Placeholders are {name}. A key missing from a catalog falls back to
// English. Adding a language is dropping a file here; the tests check
// that it has every English key with the same placeholders.
//
//go:embed locales/*.json
var localeFS embed.FS

const defaultLang = "en"

type locale struct {
	key  string // file name: what lang and Accept-Language match
	tag  string
	name string
	dir  string
	msgs map[string]string
}

var locales = mustLoadLocales(localeFS)

func mustLoadLocales(fsys fs.FS) map[string]*locale {
	ls, err := loadLocales(fsys)
	if err != nil {
		panic(err)
	}
	return ls
}

func loadLocales(fsys fs.FS) (map[string]*locale, error) {
	files, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return nil, err
	}
	out := map[string]*locale{}
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		var msgs map[string]string
		if err := json.Unmarshal(raw, &msgs); err != nil {
			return nil, fmt.Errorf("oauth: catalog %s: %w", f, err)
		}
		key := strings.ToLower(strings.TrimSuffix(path.Base(f), ".json"))
		l := &locale{key: key, tag: msgs["meta.tag"], name: msgs["meta.name"], dir: msgs["meta.dir"], msgs: msgs}
		if l.tag == "" {
			l.tag = key
		}
		if l.dir != "rtl" {
			l.dir = "ltr"
		}
		out[key] = l
	}
	if out[defaultLang] == nil {
		return nil, fmt.Errorf("oauth: no %s catalog", defaultLang)
	}
	return out, nil
}

// T returns the message for key with {name} placeholders replaced by the
// pairs in args. Values are plain text; templates escape them.
func (l *locale) T(key string, args ...string) string {
	msg, ok := l.msgs[key]
	if !ok {
		if msg, ok = locales[defaultLang].msgs[key]; !ok {
			return key
		}
	}
	if len(args) < 2 {
		return msg
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+args[i]+"}", args[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// pickLocale chooses the language: the lang parameter, then the
// browser's Accept-Language, then English.
func pickLocale(lang, acceptLanguage string) *locale {
	if l := matchLocale(lang); l != nil {
		return l
	}
	for _, tag := range acceptedLanguages(acceptLanguage) {
		if l := matchLocale(tag); l != nil {
			return l
		}
	}
	return locales[defaultLang]
}

// matchLocale finds a catalog for a tag: an exact match ("pt-br"), else
// its primary language ("fr-CA" → "fr").
func matchLocale(tag string) *locale {
	tag = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
	if tag == "" || len(tag) > 35 {
		return nil
	}
	if l := locales[tag]; l != nil {
		return l
	}
	base, _, _ := strings.Cut(tag, "-")
	return locales[base]
}

// acceptedLanguages orders an Accept-Language header's tags by quality,
// leaving out q=0 (RFC 9110 §12.5.4). Malformed entries are skipped.
func acceptedLanguages(h string) []string {
	type entry struct {
		tag string
		q   float64
	}
	var es []entry
	for i, part := range strings.Split(h, ",") {
		if i >= 32 {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if tag = strings.TrimSpace(tag); tag != "" && tag != "*" && q > 0 {
			es = append(es, entry{tag, q})
		}
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.tag
	}
	return out
}

// sortedLocales lists the catalogs by key, for the language menu.
func sortedLocales() []*locale {
	out := make([]*locale, 0, len(locales))
	for _, l := range locales {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b *locale) int { return strings.Compare(a.key, b.key) })
	return out
}
