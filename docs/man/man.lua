-- man.lua - the pandoc filter of the manual pages (cmake/man.cmake).
--
-- The Markdown of docs/ is written for a browser; a manual page is read on
-- an 80-column terminal, where man leaves 72 columns for text. pandoc's man
-- writer gives every table 70 columns split as the Markdown's dashes say
-- (equally, in docs/), which tbl cannot fit once a column holds a word
-- longer than its share (`avro.schema.id.complaint`), and groff warns. So
-- a table of two or three columns that fit gets widths from its longest
-- word and its amount of text, and a wider one (the keys of
-- configuration.md: key, default, accepted, meaning) becomes a list, one
-- entry a row, as manual pages usually present keys and options. Headings of
-- sections are in capitals, text is ragged right, and links to other files
-- of docs/ keep only their text.

local LINE = 72     -- columns man leaves for text at MANWIDTH=80
local WRITER = 70   -- columns pandoc's man writer gives a table of width 1
local GAP = 3       -- tbl's default space between columns

local function rows_of(t)
  local rows = {}
  for _, r in ipairs(t.head.rows) do rows[#rows + 1] = r end
  for _, b in ipairs(t.bodies) do
    for _, r in ipairs(b.body) do rows[#rows + 1] = r end
  end
  return rows
end

local function cells_of(row) return row.cells or row[2] end
local function contents_of(cell) return cell.contents or cell[5] end

function Table(t)
  local rows = rows_of(t)
  local ncol = #t.colspecs
  local longest, amount = {}, {}
  for j = 1, ncol do longest[j], amount[j] = 1, 1 end
  for _, r in ipairs(rows) do
    for j, c in ipairs(cells_of(r)) do
      local text = pandoc.utils.stringify(contents_of(c))
      amount[j] = amount[j] + #text
      for w in text:gmatch('%S+') do
        if #w > longest[j] then longest[j] = #w end
      end
    end
  end
  local room = LINE - GAP * (ncol - 1) - 2
  local need = 0
  for j = 1, ncol do need = need + longest[j] + 1 end
  if ncol < 4 and need <= room then
    -- Each column gets its longest word, and the rest of the line is
    -- shared in proportion to the text each holds.
    local spare, total = room - need, 0
    for j = 1, ncol do total = total + amount[j] end
    for j = 1, ncol do
      local w = longest[j] + 1 + spare * amount[j] / total
      t.colspecs[j] = {t.colspecs[j][1], w / WRITER}
    end
    return t
  end
  -- Too wide: a definition list. The term is the first column; the
  -- definition says "heading: cell" for the middle columns, then the last
  -- column's text.
  local heads = {}
  for j, c in ipairs(cells_of(t.head.rows[1])) do
    heads[j] = pandoc.utils.stringify(contents_of(c))
  end
  local items = {}
  for _, b in ipairs(t.bodies) do
    for _, r in ipairs(b.body) do
      local cells = cells_of(r)
      local term = pandoc.utils.blocks_to_inlines(contents_of(cells[1]))
      local facts = {}
      for j = 2, ncol - 1 do
        local inl = pandoc.utils.blocks_to_inlines(contents_of(cells[j]))
        if #inl > 0 then
          if #facts > 0 then
            facts[#facts + 1] = pandoc.Str(';')
            facts[#facts + 1] = pandoc.Space()
          end
          facts[#facts + 1] = pandoc.Emph({pandoc.Str(heads[j] .. ':')})
          facts[#facts + 1] = pandoc.Space()
          for _, x in ipairs(inl) do facts[#facts + 1] = x end
        end
      end
      local def = {}
      if #facts > 0 then def[#def + 1] = pandoc.Para(facts) end
      for _, blk in ipairs(contents_of(cells[ncol])) do def[#def + 1] = blk end
      items[#items + 1] = {term, {def}}
    end
  end
  return pandoc.DefinitionList(items)
end

function Header(h)
  if h.level == 1 then
    return pandoc.Header(1, pandoc.utils.stringify(h.content):upper(), h.attr)
  end
end

-- A link to another file of docs/ means nothing in a manual page (the man
-- writer would print its target after it): only its text is kept. Links
-- with a scheme (https:) keep their target.
function Link(l)
  if not l.target:match('^%a[%w+.-]*:') then
    return l.content
  end
end

-- Ragged right (.ad l), as most manual pages are: justified text in narrow
-- table columns leaves lines groff cannot adjust, and it warns about each.
-- No hyphenation (.nh): it would cut names of keys and fields (account_id).
function Pandoc(doc)
  table.insert(doc.blocks, 1, pandoc.RawBlock('man', '.ad l\n.nh'))
  return doc
end
