package parse

import (
	"github.com/yuin/gopher-lua/ast"
)

// hazlua: a recursive-descent parser for the grammar of parser.go.y. It
// builds the same syntax tree as the yacc parser (parser.go), node for
// node and line for line, and fails with the same error at the same
// token: descent_test.go compares the two. It reads tokens when the yacc
// parser would (a token is scanned only when the parse needs to look at
// it), so lexical errors, the "parse error" of an expression statement
// that is not a call, and the lexer's PNewLine come out the same.
//
// The yacc parser copies its 264-byte value stack entry several times per
// token, with write barriers while the garbage collector runs: it was half
// of loading a 10,000-line build script of table constructors. This one
// is several times faster and allocates only the tree.
//
// Its recursion is bounded: past maxDescentDepth nested expressions and
// blocks it gives up and Parse runs the yacc parser, whose stack is on
// the heap, so absurdly deep nesting parses as before instead of
// exhausting the goroutine stack.

// maxDescentDepth bounds the nesting (blocks and subexpressions) the
// descent parser handles itself.
const maxDescentDepth = 1000

// tooDeep is the panic value with which the descent parser gives up.
type tooDeep struct{}

// descentKind is what a parsed expression is, as far as the grammar's
// productions tell: a var (may be assigned), a functioncall (may be a
// statement; in parentheses, an afunctioncall), or anything else.
type descentKind int

const (
	kindOther descentKind = iota
	kindVar
	kindCall
)

type descentParser struct {
	lx    *Lexer
	tok   ast.Token // the lookahead token, when has
	typ   int       // its type as the yacc parser sees it: 0 at the end
	has   bool
	depth int

	// Stacks of the lists being built, copied out to size when complete.
	stmts  []ast.Stmt
	exprs  []ast.Expr
	fields []*ast.Field
	names  []string

	// The most common nodes and the lists come from chunks: one
	// allocation for many (the tree is garbage once compiled).
	idents     slab[ast.IdentExpr]
	strs       slab[ast.StringExpr]
	numbers    slab[ast.NumberExpr]
	attrs      slab[ast.AttrGetExpr]
	calls      slab[ast.FuncCallExpr]
	callStmts  slab[ast.FuncCallStmt]
	tables     slab[ast.TableExpr]
	fieldNodes slab[ast.Field]
	stmtList   []ast.Stmt
	exprList1  []ast.Expr
	fieldList  []*ast.Field
}

// slabSize is how many nodes a slab allocates at once.
const slabSize = 128

// slab hands out zeroed nodes of type T from chunks.
type slab[T any] []T

func (s *slab[T]) new() *T {
	if len(*s) == 0 {
		*s = make([]T, slabSize)
	}
	n := &(*s)[0]
	*s = (*s)[1:]
	return n
}

// listSize is how many list elements carve allocates at once.
const listSize = 512

// carve returns a copy of src in a slice of its own length and capacity,
// cut from *chunk (which it refills when needed); a long list gets its own
// allocation. src must not be empty.
func carve[T any](chunk *[]T, src []T) []T {
	n := len(src)
	if n > listSize/8 {
		return append([]T(nil), src...)
	}
	if n > len(*chunk) {
		*chunk = make([]T, listSize)
	}
	out := (*chunk)[:n:n]
	*chunk = (*chunk)[n:]
	copy(out, src)
	return out
}

// descend parses the whole input of lx, or reports that it nests too
// deeply (ok false). Errors are panics, as in the yacc parser.
func descend(lx *Lexer) (stmts []ast.Stmt, ok bool) {
	defer func() {
		if e := recover(); e != nil {
			if _, deep := e.(tooDeep); deep {
				stmts, ok = nil, false
				return
			}
			panic(e)
		}
	}()
	p := &descentParser{lx: lx}
	return p.chunk(), true
}

// peek returns the type of the lookahead token, scanning it if needed.
func (p *descentParser) peek() int {
	if !p.has {
		p.typ = p.lx.scan(&p.tok)
		p.has = true
	}
	return p.typ
}

// skip consumes the lookahead token, for a caller that needs no more of
// it than its type.
func (p *descentParser) skip() {
	p.peek()
	p.has = false
}

// next consumes the lookahead token and returns it.
func (p *descentParser) next() ast.Token {
	p.peek()
	p.has = false
	return p.tok
}

// syntaxError fails at the lookahead token, as the yacc parser does.
func (p *descentParser) syntaxError() {
	p.peek()
	p.lx.Error("syntax error")
}

// expect consumes a token of type typ, or fails.
func (p *descentParser) expect(typ int) ast.Token {
	if p.peek() != typ {
		p.syntaxError()
	}
	return p.next()
}

// want is expect for a token whose value is not needed.
func (p *descentParser) want(typ int) {
	if p.peek() != typ {
		p.syntaxError()
	}
	p.has = false
}

func (p *descentParser) enter() {
	p.depth++
	if p.depth > maxDescentDepth {
		panic(tooDeep{})
	}
}

func (p *descentParser) leave() { p.depth-- }

// chunk: the input, a block followed by the end.
func (p *descentParser) chunk() []ast.Stmt {
	stmts := p.block()
	if p.peek() != 0 {
		p.syntaxError()
	}
	p.lx.Stmts = stmts
	return stmts
}

func startsStat(typ int) bool {
	switch typ {
	case TIdent, '(', TDo, TWhile, TRepeat, TIf, TFor, TFunction, TLocal, T2Colon, TGoto:
		return true
	}
	return false
}

func startsExpr(typ int) bool {
	switch typ {
	case TNil, TFalse, TTrue, TNumber, T3Comma, TFunction, TIdent, '(', TString, '{', '-', TNot, '#':
		return true
	}
	return false
}

// block: chunk1, then a laststat with an optional ';'. It ends at the
// first token that cannot start a statement; the caller checks it.
func (p *descentParser) block() []ast.Stmt {
	p.enter()
	mark := len(p.stmts)
loop:
	for {
		switch typ := p.peek(); {
		case typ == ';':
			p.skip()
		case typ == TReturn || typ == TBreak:
			s := p.lastStat()
			p.stmts = append(p.stmts, s)
			if p.peek() == ';' {
				p.skip()
			}
			break loop
		case startsStat(typ):
			s := p.stat()
			p.stmts = append(p.stmts, s)
		default:
			break loop
		}
	}
	stmts := []ast.Stmt{}
	if len(p.stmts) > mark {
		stmts = carve(&p.stmtList, p.stmts[mark:])
	}
	clear(p.stmts[mark:])
	p.stmts = p.stmts[:mark]
	p.leave()
	return stmts
}

func (p *descentParser) lastStat() ast.Stmt {
	t := p.next()
	if t.Type == TBreak {
		st := &ast.BreakStmt{}
		st.SetLine(t.Pos.Line)
		return st
	}
	st := &ast.ReturnStmt{Exprs: nil}
	if startsExpr(p.peek()) {
		st.Exprs = p.exprList()
	}
	st.SetLine(t.Pos.Line)
	return st
}

func (p *descentParser) stat() ast.Stmt {
	switch p.peek() {
	case TDo:
		t := p.next()
		stmts := p.block()
		end := p.expect(TEnd)
		st := &ast.DoBlockStmt{Stmts: stmts}
		st.SetLine(t.Pos.Line)
		st.SetLastLine(end.Pos.Line)
		return st
	case TWhile:
		t := p.next()
		cond := p.expr()
		p.want(TDo)
		stmts := p.block()
		end := p.expect(TEnd)
		st := &ast.WhileStmt{Condition: cond, Stmts: stmts}
		st.SetLine(t.Pos.Line)
		st.SetLastLine(end.Pos.Line)
		return st
	case TRepeat:
		t := p.next()
		stmts := p.block()
		p.want(TUntil)
		cond := p.expr()
		st := &ast.RepeatStmt{Condition: cond, Stmts: stmts}
		st.SetLine(t.Pos.Line)
		st.SetLastLine(cond.Line())
		return st
	case TIf:
		return p.ifStat()
	case TFor:
		return p.forStat()
	case TFunction:
		t := p.next()
		name := p.funcName()
		body := p.funcBody()
		st := &ast.FuncDefStmt{Name: name, Func: body}
		st.SetLine(t.Pos.Line)
		st.SetLastLine(body.LastLine())
		return st
	case TLocal:
		t := p.next()
		if p.peek() == TFunction {
			p.skip()
			name := p.expect(TIdent)
			body := p.funcBody()
			st := &ast.LocalAssignStmt{Names: []string{name.Str}, Exprs: []ast.Expr{body}}
			st.SetLine(t.Pos.Line)
			st.SetLastLine(body.LastLine())
			return st
		}
		names, _ := p.nameList(false)
		var st *ast.LocalAssignStmt
		if p.peek() == '=' {
			p.skip()
			st = &ast.LocalAssignStmt{Names: names, Exprs: p.exprList()}
		} else {
			st = &ast.LocalAssignStmt{Names: names, Exprs: []ast.Expr{}}
		}
		st.SetLine(t.Pos.Line)
		return st
	case T2Colon:
		t := p.next()
		name := p.expect(TIdent)
		p.want(T2Colon)
		st := &ast.LabelStmt{Name: name.Str}
		st.SetLine(t.Pos.Line)
		return st
	case TGoto:
		t := p.next()
		name := p.expect(TIdent)
		st := &ast.GotoStmt{Label: name.Str}
		st.SetLine(t.Pos.Line)
		return st
	}
	// varlist '=' exprlist, or prefixexp (a call).
	e, kind := p.suffixedExp()
	if kind == kindVar && (p.peek() == '=' || p.peek() == ',') {
		mark := len(p.exprs)
		p.exprs = append(p.exprs, e)
		for p.peek() == ',' {
			p.skip()
			v, kind := p.suffixedExp()
			if kind != kindVar {
				p.syntaxError()
			}
			p.exprs = append(p.exprs, v)
		}
		lhs := p.popExprs(mark)
		p.want('=')
		st := &ast.AssignStmt{Lhs: lhs, Rhs: p.exprList()}
		st.SetLine(lhs[0].Line())
		return st
	}
	// The yacc parser reduces stat: prefixexp on any other lookahead,
	// which it has read.
	p.peek()
	call, ok := e.(*ast.FuncCallExpr)
	if !ok {
		p.lx.Error("parse error")
	}
	st := p.callStmts.new()
	st.Expr = call
	st.SetLine(call.Line())
	return st
}

func (p *descentParser) ifStat() ast.Stmt {
	t := p.next()
	cond := p.expr()
	p.want(TThen)
	then := p.block()
	st := &ast.IfStmt{Condition: cond, Then: then}
	cur := st
	for p.peek() == TElseIf {
		et := p.next()
		econd := p.expr()
		p.want(TThen)
		ethen := p.block()
		elseif := &ast.IfStmt{Condition: econd, Then: ethen}
		elseif.SetLine(et.Pos.Line)
		cur.Else = []ast.Stmt{elseif}
		cur = elseif
	}
	if p.peek() == TElse {
		p.skip()
		cur.Else = p.block()
	}
	end := p.expect(TEnd)
	st.SetLine(t.Pos.Line)
	st.SetLastLine(end.Pos.Line)
	return st
}

func (p *descentParser) forStat() ast.Stmt {
	t := p.next()
	first := p.expect(TIdent)
	if p.peek() == '=' {
		p.skip()
		init := p.expr()
		p.want(',')
		limit := p.expr()
		var step ast.Expr
		if p.peek() == ',' {
			p.skip()
			step = p.expr()
		}
		p.want(TDo)
		stmts := p.block()
		end := p.expect(TEnd)
		st := &ast.NumberForStmt{Name: first.Str, Init: init, Limit: limit, Step: step, Stmts: stmts}
		st.SetLine(t.Pos.Line)
		st.SetLastLine(end.Pos.Line)
		return st
	}
	mark := len(p.names)
	p.names = append(p.names, first.Str)
	names, _ := p.moreNames(mark, false)
	p.want(TIn)
	exprs := p.exprList()
	p.want(TDo)
	stmts := p.block()
	end := p.expect(TEnd)
	st := &ast.GenericForStmt{Names: names, Exprs: exprs, Stmts: stmts}
	st.SetLine(t.Pos.Line)
	st.SetLastLine(end.Pos.Line)
	return st
}

// nameList: TIdent {',' TIdent}. With vararg (a parlist), a ',' may be
// followed by '...' instead, which it consumes and reports (dots).
func (p *descentParser) nameList(vararg bool) (names []string, dots bool) {
	first := p.expect(TIdent)
	mark := len(p.names)
	p.names = append(p.names, first.Str)
	return p.moreNames(mark, vararg)
}

// moreNames reads the rest of a namelist whose first names are on the
// stack from mark.
func (p *descentParser) moreNames(mark int, vararg bool) (names []string, dots bool) {
	for p.peek() == ',' {
		p.skip()
		if vararg && p.peek() == T3Comma {
			p.skip()
			dots = true
			break
		}
		p.names = append(p.names, p.expect(TIdent).Str)
	}
	names = append([]string(nil), p.names[mark:]...)
	p.names = p.names[:mark]
	return names, dots
}

func (p *descentParser) funcName() *ast.FuncName {
	t := p.expect(TIdent)
	id := &ast.IdentExpr{Value: t.Str}
	name := &ast.FuncName{Func: id}
	name.Func.SetLine(t.Pos.Line)
	for p.peek() == '.' {
		p.skip()
		k := p.expect(TIdent)
		key := &ast.StringExpr{Value: k.Str}
		key.SetLine(k.Pos.Line)
		fn := &ast.AttrGetExpr{Object: name.Func, Key: key}
		fn.SetLine(k.Pos.Line)
		name = &ast.FuncName{Func: fn}
	}
	if p.peek() == ':' {
		p.skip()
		m := p.expect(TIdent)
		name = &ast.FuncName{Func: nil, Receiver: name.Func, Method: m.Str}
	}
	return name
}

// funcBody: '(' [parlist] ')' block TEnd.
func (p *descentParser) funcBody() *ast.FunctionExpr {
	t := p.expect('(')
	var par *ast.ParList
	switch p.peek() {
	case ')':
		par = &ast.ParList{HasVargs: false, Names: []string{}}
	case T3Comma:
		p.skip()
		par = &ast.ParList{HasVargs: true, Names: []string{}}
	default:
		names, dots := p.nameList(true)
		par = &ast.ParList{HasVargs: dots, Names: []string{}}
		par.Names = append(par.Names, names...)
	}
	p.expect(')')
	stmts := p.block()
	end := p.expect(TEnd)
	fn := &ast.FunctionExpr{ParList: par, Stmts: stmts}
	fn.SetLine(t.Pos.Line)
	fn.SetLastLine(end.Pos.Line)
	return fn
}

func (p *descentParser) popExprs(mark int) []ast.Expr {
	list := carve(&p.exprList1, p.exprs[mark:])
	clear(p.exprs[mark:])
	p.exprs = p.exprs[:mark]
	return list
}

// exprList: expr {',' expr}.
func (p *descentParser) exprList() []ast.Expr {
	mark := len(p.exprs)
	e := p.expr()
	p.exprs = append(p.exprs, e)
	for p.peek() == ',' {
		p.skip()
		e := p.expr()
		p.exprs = append(p.exprs, e)
	}
	return p.popExprs(mark)
}

func (p *descentParser) expr() ast.Expr {
	e, _ := p.subExpr(0, nil)
	return e
}

// Binary operator priorities, left and right, as Lua's: the yacc
// precedences and associativities give the same trees.
func binaryPriority(typ int) (left, right int) {
	switch typ {
	case TOr:
		return 1, 1
	case TAnd:
		return 2, 2
	case '>', '<', TGte, TLte, TEqeq, TNeq:
		return 3, 3
	case T2Comma:
		return 5, 4 // right associative
	case '+', '-':
		return 6, 6
	case '*', '/', '%':
		return 7, 7
	case '^':
		return 10, 9 // right associative
	}
	return 0, 0
}

// unaryPriority is the priority of the operand of a unary operator: only
// '^' binds tighter.
const unaryPriority = 8

// subExpr parses an expression whose binary operators have a left
// priority above limit. With ident, the expression starts with that
// identifier, already consumed.
func (p *descentParser) subExpr(limit int, ident *ast.Token) (ast.Expr, descentKind) {
	p.enter()
	var e ast.Expr
	kind := kindOther
	switch typ := p.peek(); {
	case ident != nil:
		e, kind = p.suffixes(p.identExpr(*ident), kindVar)
	case typ == '-' || typ == TNot || typ == '#':
		p.skip()
		operand, _ := p.subExpr(unaryPriority, nil)
		switch typ {
		case '-':
			u := &ast.UnaryMinusOpExpr{Expr: operand}
			u.SetLine(operand.Line())
			e = u
		case TNot:
			u := &ast.UnaryNotOpExpr{Expr: operand}
			u.SetLine(operand.Line())
			e = u
		default:
			u := &ast.UnaryLenOpExpr{Expr: operand}
			u.SetLine(operand.Line())
			e = u
		}
	default:
		e, kind = p.simpleExp()
	}
	for {
		op := p.peek()
		left, right := binaryPriority(op)
		if left <= limit {
			break
		}
		p.skip()
		rhs, _ := p.subExpr(right, nil)
		e = binaryExpr(op, e, rhs)
		kind = kindOther
	}
	p.leave()
	return e, kind
}

func binaryExpr(op int, lhs, rhs ast.Expr) ast.Expr {
	var e ast.Expr
	switch op {
	case TOr:
		e = &ast.LogicalOpExpr{Lhs: lhs, Operator: "or", Rhs: rhs}
	case TAnd:
		e = &ast.LogicalOpExpr{Lhs: lhs, Operator: "and", Rhs: rhs}
	case '>':
		e = &ast.RelationalOpExpr{Lhs: lhs, Operator: ">", Rhs: rhs}
	case '<':
		e = &ast.RelationalOpExpr{Lhs: lhs, Operator: "<", Rhs: rhs}
	case TGte:
		e = &ast.RelationalOpExpr{Lhs: lhs, Operator: ">=", Rhs: rhs}
	case TLte:
		e = &ast.RelationalOpExpr{Lhs: lhs, Operator: "<=", Rhs: rhs}
	case TEqeq:
		e = &ast.RelationalOpExpr{Lhs: lhs, Operator: "==", Rhs: rhs}
	case TNeq:
		e = &ast.RelationalOpExpr{Lhs: lhs, Operator: "~=", Rhs: rhs}
	case T2Comma:
		e = &ast.StringConcatOpExpr{Lhs: lhs, Rhs: rhs}
	case '+':
		e = &ast.ArithmeticOpExpr{Lhs: lhs, Operator: "+", Rhs: rhs}
	case '-':
		e = &ast.ArithmeticOpExpr{Lhs: lhs, Operator: "-", Rhs: rhs}
	case '*':
		e = &ast.ArithmeticOpExpr{Lhs: lhs, Operator: "*", Rhs: rhs}
	case '/':
		e = &ast.ArithmeticOpExpr{Lhs: lhs, Operator: "/", Rhs: rhs}
	case '%':
		e = &ast.ArithmeticOpExpr{Lhs: lhs, Operator: "%", Rhs: rhs}
	default: // '^'
		e = &ast.ArithmeticOpExpr{Lhs: lhs, Operator: "^", Rhs: rhs}
	}
	e.SetLine(lhs.Line())
	return e
}

func (p *descentParser) simpleExp() (ast.Expr, descentKind) {
	var e ast.Expr
	switch p.peek() {
	case TNil:
		e = &ast.NilExpr{}
	case TFalse:
		e = &ast.FalseExpr{}
	case TTrue:
		e = &ast.TrueExpr{}
	case TNumber:
		n := p.numbers.new()
		n.Value = p.tok.Str
		e = n
	case T3Comma:
		e = &ast.Comma3Expr{}
	case TString:
		s := p.strs.new()
		s.Value = p.tok.Str
		e = s
	case TFunction:
		t := p.next()
		body := p.funcBody()
		fn := &ast.FunctionExpr{ParList: body.ParList, Stmts: body.Stmts}
		fn.SetLine(t.Pos.Line)
		fn.SetLastLine(body.LastLine())
		return fn, kindOther
	case '{':
		return p.tableConstructor(), kindOther
	default:
		return p.suffixedExp()
	}
	t := p.next()
	e.SetLine(t.Pos.Line)
	return e, kindOther
}

func (p *descentParser) identExpr(t ast.Token) ast.Expr {
	e := p.idents.new()
	e.Value = t.Str
	e.SetLine(t.Pos.Line)
	return e
}

// suffixedExp: a prefixexp, and what its last production is.
func (p *descentParser) suffixedExp() (ast.Expr, descentKind) {
	switch p.peek() {
	case TIdent:
		return p.suffixes(p.identExpr(p.next()), kindVar)
	case '(':
		t := p.next()
		e, kind := p.subExpr(0, nil)
		p.expect(')')
		if kind == kindCall {
			// afunctioncall: '(' functioncall ')'
			e.(*ast.FuncCallExpr).AdjustRet = true
		} else {
			// prefixexp: '(' expr ')'
			if ex, ok := e.(*ast.Comma3Expr); ok {
				ex.AdjustRet = true
			}
			e.SetLine(t.Pos.Line)
		}
		return p.suffixes(e, kindOther)
	}
	p.syntaxError()
	return nil, kindOther
}

// suffixes reads the field accesses, indexes and calls after the
// prefixexp e.
func (p *descentParser) suffixes(e ast.Expr, kind descentKind) (ast.Expr, descentKind) {
	for {
		switch p.peek() {
		case '.':
			p.skip()
			name := p.expect(TIdent)
			key := p.strs.new()
			key.Value = name.Str
			key.SetLine(name.Pos.Line)
			a := p.attrs.new()
			a.Object, a.Key = e, key
			a.SetLine(e.Line())
			e, kind = a, kindVar
		case '[':
			p.skip()
			key := p.expr()
			p.want(']')
			a := p.attrs.new()
			a.Object, a.Key = e, key
			a.SetLine(e.Line())
			e, kind = a, kindVar
		case ':':
			p.skip()
			name := p.expect(TIdent)
			args := p.args()
			c := p.calls.new()
			c.Method, c.Receiver, c.Args = name.Str, e, args
			c.SetLine(e.Line())
			e, kind = c, kindCall
		case '(', '{', TString:
			args := p.args()
			c := p.calls.new()
			c.Func, c.Args = e, args
			c.SetLine(e.Line())
			e, kind = c, kindCall
		default:
			return e, kind
		}
	}
}

func (p *descentParser) args() []ast.Expr {
	switch p.peek() {
	case '{':
		tb := p.tableConstructor()
		return carve(&p.exprList1, []ast.Expr{tb})
	case TString:
		t := p.next()
		s := p.strs.new()
		s.Value = t.Str
		s.SetLine(t.Pos.Line)
		return carve(&p.exprList1, []ast.Expr{s})
	case '(':
		t := p.next()
		args := []ast.Expr{}
		if p.peek() != ')' {
			args = p.exprList()
		}
		p.expect(')')
		// As in the yacc grammar's actions, after ')' was scanned.
		if p.lx.PNewLine {
			p.lx.TokenError(t, "ambiguous syntax (function call x new statement)")
		}
		return args
	}
	p.syntaxError()
	return nil
}

func (p *descentParser) tableConstructor() ast.Expr {
	t := p.expect('{')
	if p.peek() == '}' {
		p.skip()
		tb := p.tables.new()
		tb.Fields = []*ast.Field{}
		tb.SetLine(t.Pos.Line)
		return tb
	}
	mark := len(p.fields)
	for {
		f := p.field()
		p.fields = append(p.fields, f)
		if sep := p.peek(); sep != ',' && sep != ';' {
			break
		}
		// fieldlist: fieldlist fieldsep, so separators may repeat.
		for p.peek() == ',' || p.peek() == ';' {
			p.skip()
		}
		if p.peek() == '}' {
			break
		}
	}
	p.want('}')
	fields := carve(&p.fieldList, p.fields[mark:])
	clear(p.fields[mark:])
	p.fields = p.fields[:mark]
	tb := p.tables.new()
	tb.Fields = fields
	tb.SetLine(t.Pos.Line)
	return tb
}

func (p *descentParser) field() *ast.Field {
	switch p.peek() {
	case '[':
		p.skip()
		key := p.expr()
		p.want(']')
		p.want('=')
		f := p.fieldNodes.new()
		f.Key = key
		f.Value = p.expr()
		return f
	case TIdent:
		t := p.next()
		if p.peek() == '=' {
			p.skip()
			key := p.strs.new()
			key.Value = t.Str
			f := p.fieldNodes.new()
			f.Key = key
			f.Value = p.expr()
			f.Key.SetLine(t.Pos.Line)
			return f
		}
		e, _ := p.subExpr(0, &t)
		f := p.fieldNodes.new()
		f.Value = e
		return f
	}
	f := p.fieldNodes.new()
	f.Value = p.expr()
	return f
}
