//! The synthetic world: industries, regions, departments and name parts, with their risk effects.

pub struct Industry {
    pub code: &'static str,
    pub word: &'static str,
    pub weight: f64,
    /// Added to the subject's risk logit.
    pub risk: f64,
    /// Departments that inspect this industry (the first is the lead).
    pub departments: &'static [&'static str],
    /// Products sampled in product checks (empty: never sampled).
    pub products: &'static [&'static str],
}

const SAMR: &str = "市场监督管理局";
const HEALTH: &str = "卫生健康委员会";
const SAFETY: &str = "应急管理局";
const ECO: &str = "生态环境局";
const TRANSPORT: &str = "交通运输局";
const CULTURE: &str = "文化和旅游局";
const HOUSING: &str = "住房和城乡建设局";
const AGRI: &str = "农业农村局";

pub const DEPARTMENTS: &[&str] = &[SAMR, HEALTH, SAFETY, ECO, TRANSPORT, CULTURE, HOUSING, AGRI];

const FOOD: &[&str] = &["速冻食品", "熟肉制品", "食用植物油", "调味品", "糕点", "白酒"];
const RETAIL: &[&str] = &["儿童玩具", "电线电缆", "化妆品", "预包装食品", "小家电", "服装"];
const MEALS: &[&str] = &["餐饮具", "自制饮品", "凉拌菜", "食用油"];
const DRUGS: &[&str] = &["化学药品", "中药饮片", "医疗器械"];
const GOODS: &[&str] = &["塑料制品", "钢结构件", "纺织品", "建筑材料"];

pub const INDUSTRIES: &[Industry] = &[
    Industry { code: "A0111", word: "农业", weight: 2.0, risk: -0.4, departments: &[AGRI, SAMR], products: &[] },
    Industry { code: "A0311", word: "养殖", weight: 1.5, risk: -0.1, departments: &[AGRI, ECO], products: &[] },
    Industry { code: "B0610", word: "煤业", weight: 0.6, risk: 0.5, departments: &[SAFETY, ECO], products: &[] },
    Industry { code: "C1351", word: "肉类加工", weight: 0.8, risk: 0.6, departments: &[SAMR, ECO], products: FOOD },
    Industry { code: "C1431", word: "食品", weight: 0.8, risk: 0.5, departments: &[SAMR], products: FOOD },
    Industry { code: "C1512", word: "酒业", weight: 0.5, risk: 0.4, departments: &[SAMR], products: FOOD },
    Industry { code: "C2710", word: "制药", weight: 0.2, risk: 0.4, departments: &[SAMR, ECO], products: DRUGS },
    Industry { code: "C1819", word: "服饰", weight: 1.0, risk: 0.0, departments: &[SAMR], products: GOODS },
    Industry { code: "C2929", word: "塑料制品", weight: 1.0, risk: 0.1, departments: &[SAMR, ECO], products: GOODS },
    Industry { code: "C3311", word: "钢结构", weight: 1.0, risk: 0.2, departments: &[SAMR, SAFETY], products: GOODS },
    Industry { code: "D4411", word: "电力", weight: 0.3, risk: -0.3, departments: &[SAFETY, ECO], products: &[] },
    Industry { code: "E4710", word: "建筑工程", weight: 2.5, risk: 0.3, departments: &[HOUSING, SAFETY], products: &[] },
    Industry { code: "F5121", word: "粮油批发", weight: 1.5, risk: 0.1, departments: &[SAMR], products: FOOD },
    Industry { code: "F5211", word: "百货", weight: 7.0, risk: 0.0, departments: &[SAMR], products: RETAIL },
    Industry { code: "F5221", word: "粮油", weight: 4.0, risk: 0.2, departments: &[SAMR], products: FOOD },
    Industry { code: "F5251", word: "药店", weight: 1.5, risk: 0.4, departments: &[SAMR, HEALTH], products: DRUGS },
    Industry { code: "F5261", word: "汽车销售", weight: 1.0, risk: 0.0, departments: &[SAMR], products: &[] },
    Industry { code: "F5274", word: "五金", weight: 2.5, risk: 0.0, departments: &[SAMR], products: RETAIL },
    Industry { code: "G5431", word: "物流", weight: 2.0, risk: 0.2, departments: &[TRANSPORT, SAFETY], products: &[] },
    Industry { code: "H6110", word: "酒店", weight: 0.8, risk: 0.1, departments: &[SAMR, HEALTH, CULTURE], products: MEALS },
    Industry { code: "H6210", word: "餐饮", weight: 6.0, risk: 0.5, departments: &[SAMR, HEALTH], products: MEALS },
    Industry { code: "H6220", word: "快餐", weight: 3.0, risk: 0.5, departments: &[SAMR], products: MEALS },
    Industry { code: "H6291", word: "小吃", weight: 3.5, risk: 0.6, departments: &[SAMR], products: MEALS },
    Industry { code: "I6513", word: "软件", weight: 2.0, risk: -0.6, departments: &[SAMR], products: &[] },
    Industry { code: "K7010", word: "房地产开发", weight: 1.0, risk: 0.3, departments: &[HOUSING, SAMR], products: &[] },
    Industry { code: "L7212", word: "企业管理", weight: 2.5, risk: -0.3, departments: &[SAMR], products: &[] },
    Industry { code: "M7520", word: "科技", weight: 1.5, risk: -0.5, departments: &[SAMR], products: &[] },
    Industry { code: "O8010", word: "家政", weight: 1.2, risk: 0.1, departments: &[SAMR], products: &[] },
    Industry { code: "O8051", word: "洗浴", weight: 1.0, risk: 0.3, departments: &[HEALTH, SAMR], products: &[] },
    Industry { code: "O8111", word: "汽车维修", weight: 2.0, risk: 0.2, departments: &[TRANSPORT, SAMR], products: &[] },
    Industry { code: "P8391", word: "教育培训", weight: 1.0, risk: 0.2, departments: &[SAMR], products: &[] },
    Industry { code: "Q8423", word: "诊所", weight: 0.6, risk: 0.3, departments: &[HEALTH], products: DRUGS },
    Industry { code: "R9051", word: "娱乐", weight: 0.5, risk: 0.4, departments: &[CULTURE, SAMR], products: &[] },
];

pub struct Region {
    pub code: &'static str,
    pub name: &'static str,
    pub weight: f64,
    pub risk: f64,
}

/// 晋城市 (Jincheng, Shanxi): the city of the seed document, and its counties.
pub const REGIONS: &[Region] = &[
    Region { code: "140502", name: "城区", weight: 3.0, risk: 0.1 },
    Region { code: "140521", name: "沁水县", weight: 1.0, risk: -0.1 },
    Region { code: "140522", name: "阳城县", weight: 1.5, risk: 0.0 },
    Region { code: "140524", name: "陵川县", weight: 0.9, risk: -0.2 },
    Region { code: "140525", name: "泽州县", weight: 2.0, risk: 0.15 },
    Region { code: "140581", name: "高平市", weight: 1.8, risk: 0.05 },
];

pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗",
    "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕",
    "欧阳", "司马",
];
pub const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平",
    "刚", "桂", "英", "华", "建", "国", "文", "红", "志", "海", "鹏", "晓", "玉", "兰", "斌", "宇", "浩", "凯", "婷", "雪",
];
pub const TRADE_NAMES: &[&str] = &[
    "鑫", "盛", "华", "泰", "丰", "源", "达", "恒", "瑞", "兴", "隆", "晋", "福", "安", "康", "宏", "昌", "通", "顺", "和",
    "金", "太行", "凤城", "沁河", "丹河", "珏山", "皇城", "嘉", "永", "益", "德", "润", "祥", "裕", "宝", "信", "诚", "鼎",
];
pub const COMPLAINT_CATEGORIES: &[&str] =
    &["食品安全", "产品质量", "价格收费", "虚假宣传", "合同纠纷", "服务质量", "计量", "预付卡"];
pub const PENALTY_CATEGORIES: &[&str] =
    &["食品安全违法", "产品质量违法", "虚假宣传", "价格违法", "无照经营", "安全生产违法", "环境违法", "计量违法"];
